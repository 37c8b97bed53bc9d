import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RackHeartbeat } from '../../../src/contracts/rack-api';
import { heartbeatLoop, rackServices } from '../../../src/rack/heartbeat';
import { RegionError } from '../../../src/rack/region-client';
import { until } from './stand-in-region';

describe('rack heartbeat', () => {
  it('reports the worker running, each boot server as it says, and a server not configured as off', () => {
    const hb = rackServices('rack:abc', { dhcp: { status: 'dead', message: 'bind 0.0.0.0:67: EADDRINUSE' } });
    assert.equal(hb.services['rack-worker']?.status, 'running');
    assert.deepEqual(hb.services.dhcp, { status: 'dead', message: 'bind 0.0.0.0:67: EADDRINUSE' });
    for (const s of ['tftp', 'http-boot']) assert.equal(hb.services[s]?.status, 'off');
    const all = rackServices('rack:abc', { boot: { tftp: { status: 'running', message: 'a' }, 'http-boot': { status: 'running', message: 'b' } } });
    assert.deepEqual(all.services.tftp, { status: 'running', message: 'a' });
    assert.equal(all.services.dhcp?.status, 'off');
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
        status: () => rackServices('rack:abc', {}),
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
