// The tenancy rules as SQL (src/region/services/tenancy-sql.ts), run over real PostgreSQL with a
// few users, groups, pools and machines: who sees a machine and who may take it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { reservationAllowsSql, userMayTakeSql, userVisibilitySql } from '../../src/region/services/tenancy-sql';
import { freshDatabase } from '../helpers/infra';

describe('tenancy SQL (real PostgreSQL)', () => {
  let db: DataSource;
  let drop: () => Promise<void>;
  const id: Record<string, number> = {};

  const insert = async (sql: string, params: unknown[]): Promise<number> =>
    ((await db.query(`${sql} RETURNING id`, params)) as Array<{ id: number }>)[0]!.id;

  before(async () => {
    ({ db, drop } = await freshDatabase());
    for (const name of ['alice', 'bob', 'carol', 'root'])
      id[name] = await insert(`INSERT INTO users (username, password_hash, is_superuser) VALUES ($1, 'x', $2)`, [
        name,
        name === 'root',
      ]);
    for (const name of ['team-a', 'team-b'])
      id[name] = await insert(`INSERT INTO user_groups (name) VALUES ($1)`, [name]);
    await db.query(`INSERT INTO user_group_members (group_id, user_id) VALUES ($1, $2), ($3, $4)`, [
      id['team-a'],
      id.alice,
      id['team-b'],
      id.bob,
    ]);
    // default: never entitled, open to all. gpu: team-a deploys, team-b views. ops: team-b
    // administers. closed: restricted with no entitlement left (admins only).
    id.default = (
      (await db.query(`SELECT id FROM resource_pools WHERE name = 'default'`)) as Array<{ id: number }>
    )[0]!.id;
    for (const name of ['gpu', 'ops', 'closed'])
      id[name] = await insert(`INSERT INTO resource_pools (name, restricted) VALUES ($1, true)`, [name]);
    for (const [pool, group, level] of [
      ['gpu', 'team-a', 'deploy'],
      ['gpu', 'team-b', 'view'],
      ['ops', 'team-b', 'admin'],
    ] as const)
      await db.query(`INSERT INTO pool_entitlements (pool_id, group_id, entitlement) VALUES ($1, $2, $3)`, [
        id[pool],
        id[group],
        level,
      ]);
    const zone = ((await db.query(`SELECT id FROM zones WHERE name = 'default'`)) as Array<{ id: number }>)[0]!.id;
    const machines: Array<[string, string, string | null, string | null, string | null]> = [
      // hostname, pool, owner, reserved user, reserved group
      ['m-open', 'default', null, null, null],
      ['m-gpu', 'gpu', null, null, null],
      ['m-ops', 'ops', null, null, null],
      ['m-closed', 'closed', null, null, null],
      ['m-res-alice', 'default', null, 'alice', null],
      ['m-res-team-b', 'default', null, null, 'team-b'],
      ['m-gpu-res-team-b', 'gpu', null, null, 'team-b'],
      ['m-bob-owned', 'default', 'bob', null, null],
      ['m-alice-in-ops', 'ops', 'alice', null, null],
      ['m-carol-in-ops', 'ops', 'carol', null, null],
    ];
    for (const [i, [hostname, pool, owner, resUser, resGroup]] of machines.entries())
      id[hostname] = await insert(
        `INSERT INTO machines (system_id, hostname, status, zone_id, pool_id, owner_id, reserved_user_id, reserved_group_id)
         VALUES ($1, $2, 4, $3, $4, $5, $6, $7)`,
        [
          `t${String(i).padStart(5, '0')}`,
          hostname,
          zone,
          id[pool],
          owner && id[owner],
          resUser && id[resUser],
          resGroup && id[resGroup],
        ],
      );
  });
  after(async () => drop?.());

  const hostnames = async (rule: string, user: string): Promise<string[]> =>
    (
      (await db.query(`SELECT hostname FROM machines m WHERE ${rule} ORDER BY hostname`, [id[user]])) as Array<{
        hostname: string;
      }>
    ).map((r) => r.hostname);
  const sees = (user: string) => hostnames(userVisibilitySql('m', '$1'), user);
  const mayTake = (user: string) => hostnames(userMayTakeSql('m', '$1'), user);

  it('a user sees their own machines, their pools (view and up), their reservations; never others’', async () => {
    assert.deepEqual(await sees('alice'), ['m-alice-in-ops', 'm-gpu', 'm-open', 'm-res-alice']);
    assert.deepEqual(await sees('carol'), ['m-carol-in-ops', 'm-open']);
  });

  it("a pool admin sees every machine of the pool, whoever owns it; view shows the group's reservations", async () => {
    assert.deepEqual(await sees('bob'), [
      'm-alice-in-ops',
      'm-bob-owned',
      'm-carol-in-ops',
      'm-gpu',
      'm-gpu-res-team-b',
      'm-open',
      'm-ops',
      'm-res-team-b',
    ]);
  });

  it('taking needs deploy or admin on a restricted pool, and no reservation for someone else', async () => {
    assert.deepEqual(await mayTake('alice'), ['m-gpu', 'm-open', 'm-res-alice']);
    // view on gpu is not enough; admin on ops is; someone else's machine never.
    assert.deepEqual(await mayTake('bob'), ['m-bob-owned', 'm-open', 'm-ops', 'm-res-team-b']);
    assert.deepEqual(await mayTake('carol'), ['m-open']);
  });

  it('admins pass the pool rules but are bound by reservations too', async () => {
    assert.deepEqual(await hostnames(reservationAllowsSql('m', '$1'), 'root'), [
      'm-alice-in-ops',
      'm-bob-owned',
      'm-carol-in-ops',
      'm-closed',
      'm-gpu',
      'm-open',
      'm-ops',
    ]);
  });

  it('deleting a group ends its reservations and entitlements; its pools stay restricted (fail closed)', async () => {
    await db.query(`DELETE FROM user_groups WHERE name = 'team-b'`);
    assert.deepEqual(await sees('bob'), ['m-bob-owned', 'm-open', 'm-res-team-b']);
    assert.deepEqual(await mayTake('carol'), ['m-open', 'm-res-team-b']);
    assert.deepEqual(await sees('alice'), [
      'm-alice-in-ops',
      'm-gpu',
      'm-gpu-res-team-b',
      'm-open',
      'm-res-alice',
      'm-res-team-b',
    ]);
  });
});
