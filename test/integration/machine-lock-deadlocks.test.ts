// Changes that lock several machines can wait on each other. An allocation waits for machines in
// best-fit order; a rack's power report locks its machines in id order, as the bulk actions do.
// When PostgreSQL breaks a cycle by failing one of them (a deadlock's victim: nothing was written),
// that one starts over instead of answering 500. Each cycle is built step by step: a step waits
// until PostgreSQL shows the expected backend blocked. A waiting backend checks for a cycle once,
// deadlock_timeout into its wait: the changes' connections check after 2 s, the test's own after
// 60 s, so the change is the victim as long as the test closes the cycle within those 2 s (it
// takes milliseconds). Each test also sees PostgreSQL count the deadlock: a cycle that no longer
// forms fails it rather than passing without testing anything.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { allocateForm } from '../../src/api/resources/allocate-form';
import { Params } from '../../src/api/http';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { RegionServices } from '../../src/region/services';
import { createAdmin, createUser, machineInput } from '../helpers/factories';
import { openDatabase } from '../../src/region/db/data-source';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe('changes that lock several machines, as deadlock victims', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let services: RegionServices;
  let servicesDb: DataSource;
  const clients: Client[] = [];
  before(async () => {
    database = await freshDatabase();
    const [{ name }] = (await database.db.query(`SELECT current_database() AS name`)) as [{ name: string }];
    await database.db.query(`ALTER DATABASE "${name}" SET deadlock_timeout = '2s'`);
    // Connections opened after the ALTER have it: the services get a pool of their own.
    servicesDb = await openDatabase(database.url, { migrate: false, poolSize: 5 });
    services = servicesWithoutTemporal(servicesDb);
  });
  // A failed test's open transactions end with it, rather than hold locks the next one waits for.
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  });
  after(async () => {
    await servicesDb?.destroy();
    await database?.drop();
  });
  const client = async () => {
    const c = new Client({ connectionString: database.url });
    await c.connect();
    clients.push(c);
    return c;
  };

  /**
   * Until another backend (the change's) waits for a lock `holder` has: each step is seen, not
   * slept for. A change that ends instead, or never waits, fails the test.
   */
  const blockedBy = async (holder: Client, change: Promise<unknown>) => {
    let ended: string | undefined;
    void change.then(
      (v) => (ended = `ended without waiting: ${JSON.stringify(v)}`),
      (err: Error) => (ended = `failed without waiting: ${err.message}`),
    );
    const holderPid = (holder as unknown as { processID: number }).processID;
    for (const deadline = Date.now() + 30_000; ;) {
      // On the test's own pool, apart from the services' and the held transactions.
      const blocked = (await database.db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND $1 = ANY(pg_blocking_pids(pid))`,
        [holderPid],
      )) as unknown[];
      if (blocked.length > 0) return;
      if (ended !== undefined) assert.fail(`the change ${ended}`);
      if (Date.now() > deadline) assert.fail('the change did not wait for the lock within 30 s');
      await new Promise((res) => setTimeout(res, 20));
    }
  };

  /** Deadlocks PostgreSQL has broken in this database (a victim's count reaches the view within seconds). */
  const deadlocks = async () => {
    const [row] = (await database.db.query(
      `SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()`,
    )) as [{ n: number }];
    return row.n;
  };
  const sawDeadlock = async (before: number) => {
    for (const deadline = Date.now() + 20_000; (await deadlocks()) <= before;) {
      if (Date.now() > deadline) assert.fail('no deadlock formed: the scenario no longer builds its cycle');
      await new Promise((res) => setTimeout(res, 200));
    }
  };

  it('an allocation chosen as the victim starts over and allocates', async () => {
    const before = await deadlocks();
    const admin = await createAdmin(services);
    // x is the best fit (fewest CPUs), y the next.
    const x = await services.machines.create(machineInput({ hostname: 'x' }));
    const y = await services.machines.create(machineInput({ hostname: 'y' }));
    await database.db.query(`UPDATE machines SET status = $1, cpu_count = CASE hostname WHEN 'x' THEN 1 ELSE 2 END`, [
      S.READY,
    ]);
    const p = await client();
    const q = await client();
    await p.query('BEGIN');
    await p.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [x.id]);
    await q.query('BEGIN');
    // q checks late: the allocation is the victim.
    await q.query(`SET deadlock_timeout = '60s'`);
    await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [y.id]);
    // Both held: the allocation waits for x.
    const allocation = services.allocation.allocate(admin, allocateForm.parse(Params.of({})));
    await blockedBy(p, allocation);
    // x is taken meanwhile: the allocation passes it over (keeping its lock) and waits for y.
    await p.query(`UPDATE machines SET status = $1 WHERE id = $2`, [S.ALLOCATED, x.id]);
    await p.query('COMMIT');
    await blockedBy(q, allocation);
    // q, holding y, now wants x: a cycle.
    const qWantsX = q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [x.id]);
    const outcome = allocation.then(
      (a) => ({ ok: a.systemId }),
      (err: Error) => ({ err: err.message }),
    );
    // The allocation fails and lets x go: q gets it, then lets y go.
    await qWantsX;
    await q.query('COMMIT');
    const got = await outcome;
    assert.deepEqual(got, { ok: y.systemId });
    await sawDeadlock(before);
  });
  const powerOf = async (...systemIds: string[]) =>
    (
      (await database.db.query(`SELECT power_state FROM machines WHERE system_id = ANY($1) ORDER BY id`, [
        systemIds,
      ])) as Array<{ power_state: string }>
    ).map((r) => r.power_state);

  it("a rack's power report chosen as the victim runs again and records every state once", async () => {
    const before = await deadlocks();
    const rack = (await services.racks.register({ name: 'rack-a', interfaces: [], version: 'test' })).systemId;
    const a = await services.machines.create(machineInput({ hostname: 'a' }));
    const b = await services.machines.create(machineInput({ hostname: 'b' }));
    const q = await client();
    await q.query('BEGIN');
    await q.query(`SET deadlock_timeout = '60s'`);
    await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [b.id]);
    // The report locks a (id order), then waits for b.
    const report = services.racks.recordPowerStates(rack, { [a.systemId]: 'on', [b.systemId]: 'on' }).then(
      () => 'recorded',
      (err: Error) => err.message,
    );
    await blockedBy(q, report);
    // q, holding b, now wants a: a cycle. The report fails, lets a go, and runs again after q.
    await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [a.id]);
    await q.query('COMMIT');
    assert.equal(await report, 'recorded');
    assert.deepEqual(await powerOf(a.systemId, b.systemId), ['on', 'on']);
    const events = (await database.db.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'Power state changed' AND machine_id = ANY($1)`,
      [[a.id, b.id]],
    )) as Array<{ n: number }>;
    assert.equal(events[0]!.n, 2, 'one event per change, none from the failed attempt');
    await sawDeadlock(before);
  });

  it('a power report locks its machines in id order, whatever order the rack lists them in', async () => {
    const rack = (await services.racks.list())[0]!.systemId;
    const c = await services.machines.create(machineInput({ hostname: 'c' }));
    const d = await services.machines.create(machineInput({ hostname: 'd' }));
    // c's row rewritten: its new version lies after d's in the table, so a scan meets d first, as
    // it meets machines changed since their creation in any order.
    await database.db.query(`UPDATE machines SET hostname = hostname WHERE id = $1`, [c.id]);
    const q = await client();
    await q.query('BEGIN');
    await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [c.id]);
    // Listed d first: the report must wait for c before it takes d.
    const report = services.racks.recordPowerStates(rack, { [d.systemId]: 'on', [c.systemId]: 'on' });
    await blockedBy(q, report);
    const r = await client();
    await r.query('BEGIN');
    const dFree = await r.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE NOWAIT`, [d.id]).then(
      () => true,
      (err: Error) => err.message,
    );
    await r.query('ROLLBACK');
    await q.query('COMMIT');
    await report;
    assert.equal(dFree, true, 'the report held d while it waited for c');
    assert.deepEqual(await powerOf(c.systemId, d.systemId), ['on', 'on']);
  });
  // Admin changes that move many machines at once (an UPDATE: locks in the order it scans them),
  // each made the victim the same way: q holds the machine the scan meets last, the change locks
  // the one it meets first and waits, then q wants that one. A scan meets rows of one key in their
  // place in the table (ctid), whatever their ids: rows rewritten by earlier steps move.
  /** The machines `ids` put in the row of `table` named `name` (by its `column` on machines). */
  const placeIn = (ids: number[], column: string, table: string, name: string) =>
    database.db.query(`UPDATE machines SET ${column} = (SELECT id FROM ${table} WHERE name = $2) WHERE id = ANY($1)`, [
      ids,
      name,
    ]);
  const movers: Array<{
    what: string;
    prepare(ids: number[]): Promise<() => Promise<void>>;
    /** The name each machine ends up with (zone, owner, rack, group), `m` the machine. */
    nameAfter: string;
    expected: string;
  }> = [
    {
      what: "a zone's deletion (its machines move to the default zone)",
      prepare: async (ids) => {
        await services.zones.create({ name: 'doomed' });
        await placeIn(ids, 'zone_id', 'zones', 'doomed');
        return () => services.zones.delete('doomed');
      },
      nameAfter: `(SELECT name FROM zones WHERE id = m.zone_id)`,
      expected: 'default',
    },
    {
      what: "a user's deletion, their machines given to another",
      prepare: async (ids) => {
        const leaving = await createUser(services, 'leaving');
        await createUser(services, 'heir');
        await database.db.query(`UPDATE machines SET owner_id = $1 WHERE id = ANY($2)`, [leaving.id, ids]);
        const admin = await createAdmin(services, 'deleter');
        return () => services.accounts.deleteUser(admin.user.id, 'leaving', 'heir');
      },
      nameAfter: `(SELECT username FROM users WHERE id = m.owner_id)`,
      expected: 'heir',
    },
    {
      what: "a rack's removal (its machines move to the rack heard from last)",
      prepare: async (ids) => {
        const leaving = await services.racks.register({ name: 'rack-leaving', interfaces: [], version: 'test' });
        await services.racks.register({ name: 'rack-staying', interfaces: [], version: 'test' });
        await placeIn(ids, 'rack_id', 'racks', 'rack-leaving');
        return () => services.racks.remove(leaving.systemId);
      },
      nameAfter: `(SELECT name FROM racks WHERE id = m.rack_id)`,
      expected: 'rack-staying',
    },
    {
      what: "a new rack's registration (machines no rack serves get it)",
      prepare: async (ids) => {
        await database.db.query(`UPDATE machines SET rack_id = NULL WHERE id = ANY($1)`, [ids]);
        return async () => {
          await services.racks.register({ name: 'rack-new', interfaces: [], version: 'test' });
        };
      },
      nameAfter: `(SELECT name FROM racks WHERE id = m.rack_id)`,
      expected: 'rack-new',
    },
    {
      what: "a group's deletion (machines reserved for it are no longer reserved)",
      prepare: async (ids) => {
        await services.groups.create({ name: 'doomed-group' });
        await placeIn(ids, 'reserved_group_id', 'user_groups', 'doomed-group');
        return () => services.groups.delete('doomed-group');
      },
      nameAfter: `coalesce((SELECT name FROM user_groups WHERE id = m.reserved_group_id), 'unreserved')`,
      expected: 'unreserved',
    },
  ];
  for (const [n, mover] of movers.entries())
    it(`${mover.what}, chosen as the victim, runs again`, async () => {
      const first = await services.machines.create(machineInput({ hostname: `first-${n}` }));
      const second = await services.machines.create(machineInput({ hostname: `second-${n}` }));
      const ids = [first.id, second.id];
      const change = await mover.prepare(ids);
      const before = await deadlocks();
      const [early, late] = (
        (await database.db.query(`SELECT id FROM machines WHERE id = ANY($1) ORDER BY ctid`, [ids])) as Array<{
          id: number;
        }>
      ).map((r) => r.id);
      const q = await client();
      await q.query('BEGIN');
      await q.query(`SET deadlock_timeout = '60s'`);
      await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [late]);
      const outcome = change().then(
        () => 'done',
        (err: Error) => err.message,
      );
      await blockedBy(q, outcome);
      await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [early]);
      await q.query('COMMIT');
      assert.equal(await outcome, 'done');
      const names = (await database.db.query(`SELECT ${mover.nameAfter} AS name FROM machines m WHERE m.id = ANY($1)`, [
        ids,
      ])) as Array<{ name: string }>;
      assert.deepEqual(
        names.map((r) => r.name),
        [mover.expected, mover.expected],
      );
      await sawDeadlock(before);
    });
});
