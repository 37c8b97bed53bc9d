import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RackHeartbeat } from '../../../src/contracts/rack-api';
import { heartbeatLoop, rackServices, workerService, type WorkerHealth } from '../../../src/rack/heartbeat';
import { RegionError } from '../../../src/rack/region-client';
import { until } from './stand-in-region';

describe('rack heartbeat', () => {
  const running: WorkerHealth = { runState: 'RUNNING', activityPollerState: 'POLLING' };

  it('reports the worker as it is, each boot server as it says, and a server not configured as off', () => {
    const hb = rackServices('rack:abc', {
      worker: running,
      dhcp: { status: 'dead', message: 'bind 0.0.0.0:67: EADDRINUSE' },
    });
    assert.deepEqual(hb.services['rack-worker'], {
      status: 'running',
      message: 'power and boot activities on task queue rack:abc',
    });
    assert.equal(rackServices('rack:abc', { worker: { runState: 'FAILED' } }).services['rack-worker']?.status, 'dead');
    assert.deepEqual(hb.services.dhcp, { status: 'dead', message: 'bind 0.0.0.0:67: EADDRINUSE' });
    for (const s of ['tftp', 'http-boot']) assert.equal(hb.services[s]?.status, 'off');
    const all = rackServices('rack:abc', {
      worker: running,
      boot: { tftp: { status: 'running', message: 'a' }, 'http-boot': { status: 'running', message: 'b' } },
    });
    assert.deepEqual(all.services.tftp, { status: 'running', message: 'a' });
    assert.equal(all.services.dhcp?.status, 'off');
  });

  it("maps the Temporal worker's state: only a polling RUNNING worker is running; a rejected run() is dead with its error", () => {
    const q = 'rack:abc';
    assert.equal(workerService(q, running).status, 'running');
    assert.equal(workerService(q, { runState: 'RUNNING' }).status, 'running');
    assert.deepEqual(workerService(q, { runState: 'RUNNING', activityPollerState: 'FAILED' }), {
      status: 'degraded',
      message: 'the worker on task queue rack:abc cannot poll Temporal for activities',
    });
    assert.deepEqual(workerService(q, { runState: 'RUNNING', activityPollerState: 'SHUTDOWN' }), {
      status: 'degraded',
      message: 'the worker on task queue rack:abc is not polling for activities',
    });
    for (const runState of ['INITIALIZED', 'STOPPING', 'DRAINING', 'DRAINED'] as const)
      assert.equal(workerService(q, { runState }).status, 'degraded', runState);
    assert.deepEqual(workerService(q, { runState: 'STOPPED' }), {
      status: 'dead',
      message: 'the worker on task queue rack:abc is stopped',
    });
    assert.deepEqual(workerService(q, { runState: 'FAILED' }), {
      status: 'dead',
      message: 'the worker on task queue rack:abc failed',
    });
    // run() rejected: the error says why, whatever getState() still answers.
    assert.deepEqual(workerService(q, { runState: 'RUNNING', failure: new Error('Namespace rack-ns is not found') }), {
      status: 'dead',
      message: 'the worker on task queue rack:abc stopped with an error: Namespace rack-ns is not found',
    });
  });

  it('beats at once and then periodically, re-registers on 404, survives failures, stops on abort', async () => {
    const sent: RackHeartbeat[] = [];
    let reregistered = 0;
    let calls = 0;
    const stop = new AbortController();
    const loop = heartbeatLoop(
      {
        region: {
          heartbeat: async (_id, hb) => {
            calls++;
            if (calls === 2) throw new RegionError('gone', false, 404);
            if (calls === 3) throw new RegionError('down', true);
            sent.push(hb);
          },
        },
        rackSystemId: () => 'abc',
        status: () => rackServices('rack:abc', { worker: running }),
        everyMs: 10,
        log: () => undefined,
        reregister: async () => void reregistered++,
      },
      stop.signal,
    );
    await until(() => calls >= 5);
    stop.abort();
    await loop;
    assert.equal(reregistered, 1);
    assert.ok(sent.length >= 3);
  });
});
