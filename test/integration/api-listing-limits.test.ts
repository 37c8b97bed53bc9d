// Machine listings cannot stall the database (issue 15): bounded filters, no cut-off 200s,
// statement_timeout as a 503, queries cancelled when their client leaves, and a listing pool
// and per-user cap that leave authentication its connections. Real PostgreSQL over real HTTP.
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { maasApiRouter } from '../../src/api/auth';
import { mapDomainError } from '../../src/api/domain-errors';
import { errorBoundary, oauthHeader } from '../../src/api/http';
import { machineResources } from '../../src/api/resources/machines';
import { userResources } from '../../src/api/resources/users';
import { openDatabase } from '../../src/region/db/data-source';
import type { RegionServices } from '../../src/region/services';
import { filterSql } from '../../src/region/services/machine-queries';
import { formatApiKey } from '../../src/region/services/users';
import { signedCall } from '../helpers/http';
import { freshDatabase } from '../helpers/infra';
import { PRESENT, servicesWithoutTemporal } from '../helpers/resource-api';

const PER_USER = 2;
const LISTING_APP = 'metalflow-listings-test';

/** Polls `check` until it holds, for at most `limitMs` (a bound on waiting, not a speed claim). */
async function eventually(what: string, check: () => Promise<boolean>, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Machine listings protect the database (real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  const pools: DataSource[] = [];
  const servers: http.Server[] = [];
  let guarded: string; // listing pool of PER_USER connections, PER_USER listings per user
  let timed: string; // listing pool with a 300 ms statement_timeout
  let services: RegionServices;
  let admin: string;
  let alice: string;
  let bob: string;
  let carol: string;
  const ids: string[] = [];

  const serve = async (s: RegionServices): Promise<string> => {
    const app = new Koa();
    app.on('error', () => undefined); // a stream cut by a leaving client is expected here
    app.use(errorBoundary({ map: mapDomainError, log: () => undefined }));
    app.use(maasApiRouter(s, [...machineResources(s, PRESENT), ...userResources({ services: s })]));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', r));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/MAAS/api/2.0`;
  };
  const regionWith = (listing: { db: DataSource; perUser?: number }) =>
    servicesWithoutTemporal(database.db, {
      listing,
    });
  const get = (base: string, path: string, key: string) => signedCall(base + path, 'GET', { key });
  /** Holds an exclusive lock on machines: every listing then waits inside PostgreSQL until released. */
  const lockMachines = async () => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    await c.query('BEGIN');
    await c.query('LOCK TABLE machines IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await c.query('ROLLBACK');
      await c.end();
    };
  };
  const waitingListings = async () =>
    Number(
      (
        (await database.db.query(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE application_name = $1 AND state = 'active' AND query LIKE '%FROM machines m%'`,
          [LISTING_APP],
        )) as Array<{ n: string }>
      )[0]!.n,
    );

  before(async () => {
    database = await freshDatabase();
    const listingPool = (o: { poolSize: number; statementTimeoutMs?: number }) =>
      openDatabase(database.url, { migrate: false, applicationName: LISTING_APP, ...o });
    const guardedPool = await listingPool({ poolSize: PER_USER });
    const timedPool = await listingPool({ poolSize: 2, statementTimeoutMs: 300 });
    pools.push(guardedPool, timedPool);
    services = regionWith({ db: guardedPool, perUser: PER_USER });
    guarded = await serve(services);
    timed = await serve(regionWith({ db: timedPool }));
    const key = async (username: string, isSuperuser: boolean) => {
      const u = await services.users.create({
        username,
        password: 'pw',
        email: `${username}@example.com`,
        isSuperuser,
      });
      return formatApiKey(await services.users.createToken(u.id));
    };
    admin = await key('admin', true);
    alice = await key('alice', false);
    bob = await key('bob', false);
    carol = await key('carol', false);
    for (let i = 0; i < 3; i++) {
      const m = await services.machines.create({
        hostname: `node-${i}`,
        architecture: 'amd64/generic',
        macAddresses: [`52:54:00:00:10:0${i}`],
        powerType: 'manual',
        powerParameters: {},
        deployed: false,
        ownerId: null,
      });
      ids.push(m.systemId);
    }
    await services.tags.create({ name: 'gpu' });
    await services.tags.create({ name: 'ssd' });
    await services.tags.updateMachines('gpu', { add: [ids[0]!, ids[1]!], remove: [] });
    await services.tags.updateMachines('ssd', { add: [ids[1]!, ids[2]!], remove: [] });
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    for (const p of pools) await p.destroy();
    await database?.drop();
  });

  const systemIds = (body: unknown) => (body as Array<{ system_id: string }>).map((m) => m.system_id).sort();

  it('filters by every tag with one condition, however many values', async () => {
    const both = await get(guarded, '/machines/?tags=gpu&tags=ssd', alice);
    assert.equal(both.status, 200, both.text);
    assert.deepEqual(systemIds(both.body), [ids[1]]);
    const repeated = await get(guarded, `/machines/?${'tags=gpu&'.repeat(80)}`, alice);
    assert.equal(repeated.status, 200, repeated.text);
    assert.deepEqual(systemIds(repeated.body), [ids[0], ids[1]].sort());

    const params: unknown[] = [];
    const where = filterSql({ tags: Array.from({ length: 100 }, (_, i) => `t${i}`) }, params);
    assert.equal(where.length, 1);
    assert.equal(params.length, 1);
    assert.doesNotMatch(where[0]!, /\$2/);
  });

  it('refuses more values than a filter takes, naming the field, before any query', async () => {
    const r = await get(guarded, `/machines/?${'tags=x&'.repeat(2000)}`, alice);
    assert.equal(r.status, 400, r.text);
    assert.match((r.body as Record<string, string[]>).tags![0]!, /At most 100 values of tags/);
    const ids1001 = Array.from({ length: 1001 }, (_, i) => `id=n${i}`).join('&');
    const many = await get(guarded, `/machines/?${ids1001}`, alice);
    assert.equal(many.status, 400, many.text);
    assert.ok((many.body as Record<string, unknown>).id);
  });

  it('a bad mac_address is a 400 naming the field, not a cut-off 200; a good one in any form matches', async () => {
    const r = await get(guarded, '/machines/?mac_address=zz', alice);
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body, { mac_address: ["'zz' is not a valid MAC address."] });
    const ok = await get(guarded, '/machines/?mac_address=52-54-00-00-10-02&mac_address=52:54:00:00:10:02', alice);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(systemIds(ok.body), [ids[2]]);
  });

  it('a listing stopped by statement_timeout is a 503 saying so, not a cut-off 200', async () => {
    const unlock = await lockMachines();
    try {
      const r = await get(timed, '/machines/', alice);
      assert.equal(r.status, 503, r.text);
      assert.match(r.text, /statement timeout/);
    } finally {
      await unlock();
    }
  });

  it('cancels the query in PostgreSQL when the client goes away', async () => {
    const unlock = await lockMachines();
    try {
      const client = new AbortController();
      const listing = fetch(`${guarded}/machines/`, {
        headers: { Authorization: oauthHeader(alice) },
        signal: client.signal,
      }).catch((err: unknown) => err);
      await eventually('the listing waits in PostgreSQL', async () => (await waitingListings()) === 1);
      client.abort();
      await listing;
      await eventually('the listing query is gone from pg_stat_activity', async () => (await waitingListings()) === 0);
    } finally {
      await unlock();
    }
    // Its per-user slot was given back: alice may run her full share again.
    const again = await Promise.all(Array.from({ length: PER_USER }, () => get(guarded, '/machines/', alice)));
    assert.deepEqual(
      again.map((r) => r.status),
      Array.from({ length: PER_USER }, () => 200),
    );
  });

  it('heavy listings of many users cannot starve authentication; past the per-user cap they get 429 with Retry-After', async () => {
    // A main pool smaller than the listings below: shared, they would hold every connection and
    // the admin's token lookup would wait behind them.
    const main = await openDatabase(database.url, { migrate: false, poolSize: 3 });
    const listing = await openDatabase(database.url, { migrate: false, poolSize: 2, applicationName: LISTING_APP });
    pools.push(main, listing);
    const base = await serve(
      servicesWithoutTemporal(main, {
        // No queue: past the cap, a 429 at once (the queue has its own test below).
        listing: { db: listing, perUser: PER_USER, queue: { length: 0, maxWaitMs: 0 } },
      }),
    );
    const unlock = await lockMachines();
    const pending: Array<Promise<{ status: number; body: unknown }>> = [];
    try {
      for (const key of [alice, bob, carol])
        for (let i = 0; i < PER_USER; i++) pending.push(get(base, '/machines/', key));
      await eventually('the listing pool is busy', async () => (await waitingListings()) === 2);
      const r = await fetch(`${base}/machines/`, { headers: { Authorization: oauthHeader(alice) } });
      assert.equal(r.status, 429, await r.text());
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      // Authenticated (token lookup on the main pool) and answered while six listings wait.
      const whoami = await Promise.race([
        get(base, '/users/?op=whoami', admin),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('whoami waited behind the listings')), 15_000).unref(),
        ),
      ]);
      assert.equal(whoami.status, 200, whoami.text);
      assert.equal((whoami.body as { username: string }).username, 'admin');
      assert.equal(await waitingListings(), 2, 'the listings were still waiting');
    } finally {
      await unlock();
    }
    for (const r of await Promise.all(pending)) {
      assert.equal(r.status, 200);
      assert.equal((r.body as unknown[]).length, 3);
    }
  });

  it("a user's listings past the cap wait their turn, in the region, and then get their answer", async () => {
    const listing = await openDatabase(database.url, { migrate: false, poolSize: 2, applicationName: LISTING_APP });
    pools.push(listing);
    const base = await serve(
      servicesWithoutTemporal(database.db, {
        listing: { db: listing, perUser: 1 },
      }),
    );
    const unlock = await lockMachines();
    const pending = [get(base, '/machines/', alice), get(base, '/machines/', alice)];
    try {
      await eventually('the first listing is in PostgreSQL', async () => (await waitingListings()) === 1);
      // The second waits in the region for alice's slot, not in PostgreSQL for a connection.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await waitingListings(), 1, "alice's second listing waits for her first");
    } finally {
      await unlock();
    }
    for (const r of await Promise.all(pending)) {
      assert.equal(r.status, 200);
      assert.equal((r.body as unknown[]).length, 3);
    }
  });
});
