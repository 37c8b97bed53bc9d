// An allocation that waits for a machine another change holds can be chosen by PostgreSQL as a
// deadlock's victim (a rack's power report locks several machines at once, in its own order).
// Nothing was written then, so the allocation starts over instead of answering 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { allocateForm } from '../../src/api/resources/allocate-form';
import { Params } from '../../src/api/http';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { RegionServices } from '../../src/region/services';
import { createAdmin, machineInput } from '../helpers/factories';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

describe('an allocation chosen as a deadlock victim', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let services: RegionServices;
  const clients: Client[] = [];
  before(async () => {
    database = await freshDatabase();
    services = servicesWithoutTemporal(database.db);
  });
  after(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await database?.drop();
  });
  const client = async () => {
    const c = new Client({ connectionString: database.url });
    await c.connect();
    clients.push(c);
    return c;
  };

  it('starts over and allocates', async () => {
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
    // PostgreSQL fails the waiter whose deadlock_timeout runs out first: q checks late, so the
    // allocation (the default 1 s) is the one, however slowly a busy machine runs this test.
    await q.query(`SET deadlock_timeout = '30s'`);
    await q.query(`SELECT 1 FROM machines WHERE id = $1 FOR UPDATE`, [y.id]);
    // Both held: the allocation waits for x.
    const allocation = services.allocation.allocate(admin, allocateForm.parse(Params.of({})));
    await new Promise((r) => setTimeout(r, 300));
    // x is taken meanwhile: the allocation passes it over (keeping its lock) and waits for y.
    await p.query(`UPDATE machines SET status = $1 WHERE id = $2`, [S.ALLOCATED, x.id]);
    await p.query('COMMIT');
    await new Promise((r) => setTimeout(r, 300));
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
  });
});
