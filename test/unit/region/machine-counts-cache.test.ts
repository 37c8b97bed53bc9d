// /MAAS/metrics is unauthenticated: however many scrape, the machines' GROUP BY runs once per
// 15 s (one in flight, shared by everyone waiting), on the listings pool when there is one.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { SecretBox } from '../../../src/region/secrets';
import { createRegionServices } from '../../../src/region/services';
import { MACHINE_COUNTS_CACHE_MS, MachineCounts } from '../../../src/region/services/machine-counts';
import type { WorkflowGateway } from '../../../src/region/services/workflow-gateway';

/** A DataSource whose query answers after `release()`, counting the queries it was asked. */
function fakeDb(rows: () => Array<{ status: number; count: number }>) {
  const db = {
    queries: 0,
    fail: false,
    pending: [] as Array<() => void>,
    query(): Promise<unknown> {
      db.queries++;
      return new Promise((resolve, reject) =>
        db.pending.push(() => (db.fail ? reject(new Error('Connection terminated')) : resolve(rows()))),
      );
    },
    release() {
      for (const r of db.pending.splice(0)) r();
    },
  };
  return db;
}

describe('machine counts for /MAAS/metrics', () => {
  it('a flood of scrapes costs one query per 15 s, one in flight shared by all', async () => {
    let clock = 0;
    let ready = 3;
    const db = fakeDb(() => [{ status: 4, count: ready }]);
    const counts = new MachineCounts(db as unknown as DataSource, MACHINE_COUNTS_CACHE_MS, () => clock);
    const readyOf = (rows: Array<{ status: string; count: number }>) => rows.find((r) => r.status === 'ready')?.count;

    const flood = Array.from({ length: 100 }, () => counts.byStatus());
    assert.equal(db.queries, 1, 'concurrent scrapes share the query in flight');
    db.release();
    for (const rows of await Promise.all(flood)) assert.equal(readyOf(rows), 3);

    ready = 4;
    clock += MACHINE_COUNTS_CACHE_MS - 1;
    assert.equal(readyOf(await counts.byStatus()), 3, 'served from the cache within the period');
    assert.equal(db.queries, 1);

    clock += 1;
    const next = counts.byStatus();
    assert.equal(db.queries, 2, 'the period over: one new query');
    db.release();
    assert.equal(readyOf(await next), 4);
    assert.equal(readyOf(await counts.byStatus()), 4);
    assert.equal(db.queries, 2);
  });

  it('a failed count is kept for the period too: a flood during an outage is not a query a scrape', async () => {
    let clock = 0;
    const db = fakeDb(() => []);
    db.fail = true;
    const counts = new MachineCounts(db as unknown as DataSource, MACHINE_COUNTS_CACHE_MS, () => clock);
    const first = counts.byStatus();
    db.release();
    await assert.rejects(first, /Connection terminated/);
    await assert.rejects(counts.byStatus(), /Connection terminated/);
    assert.equal(db.queries, 1);
    db.fail = false;
    clock += MACHINE_COUNTS_CACHE_MS;
    const again = counts.byStatus();
    db.release();
    assert.equal((await again).length > 0, true);
    assert.equal(db.queries, 2);
  });

  it('the region counts on the listings pool when it has one, not the main pool', async () => {
    const main = fakeDb(() => []);
    const listings = fakeDb(() => []);
    const services = createRegionServices({
      db: main as unknown as DataSource,
      workflows: {} as WorkflowGateway,
      secrets: new SecretBox(crypto.randomBytes(32)),
      listing: { db: listings as unknown as DataSource },
    });
    const counted = services.machineCounts.byStatus();
    listings.release();
    await counted;
    assert.equal(listings.queries, 1);
    assert.equal(main.queries, 0);
  });
});
