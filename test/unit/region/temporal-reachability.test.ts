// Whether Temporal is known to be away (region/temporal/reachability.ts), wired as the region wires
// it: @temporalio/client's own gRPC retry interceptor over a connection to a port nothing listens
// on, so the attempts it retries are gRPC's real UNAVAILABLE; and the gateway clearing the flag
// when the server answers (a scripted answer: no server is needed to answer "not found").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { UnavailableError } from '../../../src/region/errors';
import { TemporalWorkflowGateway } from '../../../src/region/temporal/gateway';
import { TemporalReachability } from '../../../src/region/temporal/reachability';
import { freePort } from '../../helpers/ports';

describe('Temporal reachability', () => {
  it('a call to a server that is not there marks it away during the retries, before the call gives up', async () => {
    const reachability = new TemporalReachability();
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: [makeGrpcRetryInterceptor(reachability.observing(defaultGrpcRetryOptions({ maxAttempts: 3 })))],
    });
    const gateway = new TemporalWorkflowGateway(new Client({ connection, namespace: 'default' }), reachability);
    try {
      assert.equal(gateway.knownUnavailable(), false, 'nothing known before any call');
      const call = gateway.state('machine:x');
      let seenDuringRetries = false;
      const watch = setInterval(() => (seenDuringRetries ||= gateway.knownUnavailable()), 10);
      await assert.rejects(call, UnavailableError);
      clearInterval(watch);
      assert.ok(seenDuringRetries, 'known while the client was still retrying');
      assert.equal(gateway.knownUnavailable(), true);
    } finally {
      await connection.close();
    }
  });

  it("a visibility list's failed attempts are not taken for the server's: that store can fail alone", async () => {
    const reachability = new TemporalReachability();
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: [reachability.retryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3 }))],
    });
    const gateway = new TemporalWorkflowGateway(new Client({ connection, namespace: 'default' }), reachability);
    try {
      const call = gateway.listedRunning(['machine:x']);
      let seen = false;
      const watch = setInterval(() => (seen ||= gateway.knownUnavailable()), 10);
      await assert.rejects(call, UnavailableError);
      clearInterval(watch);
      assert.equal(seen || gateway.knownUnavailable(), false, 'not known away from a list');
      // The same interceptor still observes every other call.
      await assert.rejects(gateway.state('machine:x'), UnavailableError);
      assert.equal(gateway.knownUnavailable(), true);
    } finally {
      await connection.close();
    }
  });

  it('an answer, even "not found", clears it', async () => {
    const reachability = new TemporalReachability();
    reachability.unavailable();
    const client = {
      workflow: {
        getHandle: () => ({
          describe: async () => {
            throw new WorkflowNotFoundError('not found', 'machine:x', undefined);
          },
        }),
      },
    } as unknown as Client;
    const gateway = new TemporalWorkflowGateway(client, reachability);
    assert.equal(gateway.knownUnavailable(), true);
    assert.equal(await gateway.state('machine:x'), 'not_found');
    assert.equal(gateway.knownUnavailable(), false);
  });
});
