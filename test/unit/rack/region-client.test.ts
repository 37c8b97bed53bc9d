import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rackApiBase, RegionClient, RegionError } from '../../../src/rack/region-client';
import { fakePower, SECRET, startStandIn, type StandIn } from './stand-in-region';

describe('RegionClient', () => {
  let region: StandIn;
  before(async () => {
    region = await startStandIn();
  });
  after(() => region.close());

  it('finds the rack API whether given the region with or without /MAAS', () => {
    assert.equal(rackApiBase('http://r:5240/MAAS/'), 'http://r:5240/MAAS/rack/v1');
    assert.equal(rackApiBase('http://r:5240'), 'http://r:5240/MAAS/rack/v1');
  });

  it('sends the shared secret and parses JSON', async () => {
    region.power.set('m1', fakePower('m1'));
    const client = new RegionClient({ regionUrl: `${region.url}/MAAS`, secret: SECRET });
    assert.deepEqual(await client.powerConfig('m1'), fakePower('m1'));
    const last = region.requests.at(-1)!;
    assert.equal(last.headers.authorization, `Bearer ${SECRET}`);
    await client.heartbeat('rack1', { services: {} });
    assert.equal(region.requests.at(-1)!.path, '/MAAS/rack/v1/racks/rack1/heartbeat');
  });

  it('4xx is not retryable (404 says not found); 5xx is', async () => {
    const client = new RegionClient({ regionUrl: region.url, secret: SECRET });
    await assert.rejects(
      client.powerConfig('nope'),
      (e: unknown) => e instanceof RegionError && !e.retryable && e.notFound,
    );
    await assert.rejects(
      new RegionClient({ regionUrl: region.url, secret: 'wrong' }).powerConfig('m1'),
      (e: unknown) => e instanceof RegionError && !e.retryable && e.status === 401,
    );
    region.failNext('/machines/m1/power', 503);
    await assert.rejects(
      client.powerConfig('m1'),
      (e: unknown) => e instanceof RegionError && e.retryable && e.status === 503,
    );
  });

  it('an unreachable or hanging region is retryable', async () => {
    const down = new RegionClient({ regionUrl: 'http://127.0.0.1:1', secret: SECRET });
    await assert.rejects(
      down.bootConfig('m1'),
      (e: unknown) => e instanceof RegionError && e.retryable && e.status === undefined,
    );
    const hang = http.createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    try {
      const slow = new RegionClient({
        regionUrl: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`,
        secret: SECRET,
        timeoutMs: 100,
      });
      await assert.rejects(
        slow.bootConfig('m1'),
        (e: unknown) => e instanceof RegionError && e.retryable && /no answer/.test(e.message),
      );
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it("the caller's own abort is passed through, not turned into a region error", async () => {
    const client = new RegionClient({ regionUrl: region.url, secret: SECRET });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client.powerConfig('m1', ac.signal), (e: unknown) => !(e instanceof RegionError));
  });
});
