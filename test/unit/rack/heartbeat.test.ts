import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RackHeartbeat } from '../../../src/contracts/rack-api';
import { fakeRackServices, heartbeatLoop } from '../../../src/rack/heartbeat';
import { RegionError } from '../../../src/rack/region-client';
import { until } from './stand-in-region';

describe('rack heartbeat', () => {
  it('reports the worker running and the fake services off', () => {
    const hb = fakeRackServices('rack:abc');
    assert.equal(hb.services['rack-worker']?.status, 'running');
    for (const s of ['dhcp', 'tftp', 'http-boot']) assert.deepEqual(hb.services[s], { status: 'off', message: 'fake rack: not implemented yet' });
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
        status: () => fakeRackServices('rack:abc'),
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
