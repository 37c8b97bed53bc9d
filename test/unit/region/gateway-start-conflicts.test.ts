// The gateway's start when Temporal says a workflow with the machine's ID is already running, with
// a scripted stand-in for @temporalio/client's calls (the real server's answers to the same calls
// are covered by the integration tests; the interleaving below cannot be forced there): after the
// earlier run closes, a second request completing the same recorded start may find the first
// request's start already out. That run is this start (same claim token): 'running', not a 409.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowType, type WorkflowParams } from '../../../src/contracts/workflows';
import { ConflictError } from '../../../src/region/errors';
import { TemporalWorkflowGateway } from '../../../src/region/temporal/gateway';

type Described = { status: { name: string }; memo?: Record<string, unknown> };

/** A client whose start and describe answer from the queues given, in order. */
function scriptedClient(starts: Array<'ok' | 'conflict'>, describes: Described[]) {
  const calls: string[] = [];
  const client = {
    workflow: {
      start: async () => {
        calls.push('start');
        if (starts.shift() === 'conflict')
          throw new WorkflowExecutionAlreadyStartedError('already started', 'machine:x', 'releaseWorkflow');
        return {};
      },
      getHandle: () => ({
        describe: async () => {
          calls.push('describe');
          const d = describes.shift();
          assert.ok(d, 'no more describes scripted');
          return d;
        },
      }),
    },
  };
  return { client: client as unknown as Client, calls };
}

const params = { claimToken: 'token-of-this-start' } as unknown as WorkflowParams<typeof WorkflowType.release>;
const earlier: Described = { status: { name: 'RUNNING' }, memo: { claimToken: 'earlier-run' } };
const ours: Described = { status: { name: 'RUNNING' }, memo: { claimToken: 'token-of-this-start' } };
const closed: Described = { status: { name: 'FAILED' } };

describe('gateway start after a conflict', () => {
  it("the earlier run closes, then the other request's start of this same start wins the race: 'running'", async () => {
    const { client, calls } = scriptedClient(['conflict', 'conflict'], [earlier, closed, ours]);
    const gateway = new TemporalWorkflowGateway(client);
    assert.equal(await gateway.start(WorkflowType.release, 'machine:x', params), 'running');
    assert.deepEqual(calls, ['start', 'describe', 'describe', 'start', 'describe']);
  });

  it('the earlier run closes and another start (not this one) took the ID meanwhile: still a conflict', async () => {
    const { client } = scriptedClient(['conflict', 'conflict'], [earlier, closed, earlier]);
    const gateway = new TemporalWorkflowGateway(client);
    await assert.rejects(gateway.start(WorkflowType.release, 'machine:x', params), ConflictError);
  });

  it('the earlier run closes and nobody else started: this start goes out', async () => {
    const { client, calls } = scriptedClient(['conflict', 'ok'], [earlier, closed]);
    const gateway = new TemporalWorkflowGateway(client);
    assert.equal(await gateway.start(WorkflowType.release, 'machine:x', params), 'started');
    assert.deepEqual(calls, ['start', 'describe', 'describe', 'start']);
  });
});
