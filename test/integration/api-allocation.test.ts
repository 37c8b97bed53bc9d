// Allocation over real HTTP on real PostgreSQL: every MAAS constraint, constraints_by_type, cheapest
// first, reservations before unassigned machines, and 500 concurrent allocations by 20 users over
// 250 machines (reservations, pool entitlements and constraints all in play).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;
const GB = 1000 ** 3;

describe('MAAS API: allocation by constraints, in parallel (real HTTP, PostgreSQL)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let n = 0;

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const db = () => region.services.db;
  const allocate = (key: string, form: Record<string, string | string[]> = {}) =>
    api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key, form });
  /** READY machines straight into the database (commissioning is not what is tested here). */
  async function insert(
    count: number,
    o: {
      prefix?: string;
      cpu?: number;
      mem?: number;
      speed?: number;
      arch?: string;
      pool?: string;
      devices?: unknown[];
      reservedGroup?: string;
      reservedUser?: string;
    } = {},
  ): Promise<string[]> {
    const rows: Array<{ system_id: string }> = await db().query(
      `INSERT INTO machines (system_id, hostname, status, architecture, cpu_count, cpu_speed, memory, block_devices, zone_id, pool_id,
                             reserved_group_id, reserved_user_id, commissioning_passed)
       SELECT 'x' || lpad(to_hex($1::int + g), 5, '0'), $2 || '-' || ($1::int + g), $3, $4, $5, $6, $7, $8::jsonb,
              (SELECT id FROM zones WHERE name = 'default'), (SELECT id FROM resource_pools WHERE name = $9),
              (SELECT id FROM user_groups WHERE name = $10), (SELECT id FROM users WHERE username = $11), true
         FROM generate_series(0, $12::int - 1) g
       RETURNING system_id`,
      [
        n,
        o.prefix ?? 'm',
        S.READY,
        o.arch ?? 'amd64/generic',
        o.cpu ?? 4,
        o.speed ?? 2000,
        o.mem ?? 8192,
        JSON.stringify(o.devices ?? []),
        o.pool ?? 'default',
        o.reservedGroup ?? null,
        o.reservedUser ?? null,
        count,
      ],
    );
    n += count;
    return rows.map((r) => r.system_id);
  }
  const clear = () => db().query(`DELETE FROM machines`);

  it('matches every constraint MAAS has that this model can answer; constraints_by_type names what matched', async () => {
    await clear();
    const [plain] = await insert(1, { prefix: 'plain', cpu: 2, mem: 2048 });
    const [fast] = await insert(1, { prefix: 'fast', cpu: 8, mem: 16384, speed: 3600 });
    const [arm] = await insert(1, { prefix: 'arm', arch: 'arm64/generic', cpu: 2, mem: 2048 });
    const [disks] = await insert(1, {
      prefix: 'disks',
      cpu: 16,
      mem: 65536,
      devices: [
        { name: 'sda', size: 100 * GB, serial: '', model: '', path: '/dev/sda', tags: ['ssd'] },
        { name: 'sdb', size: 2000 * GB, serial: '', model: '', path: '/dev/sdb', tags: ['rotary'] },
        { name: 'sdc', size: 500 * GB, serial: '', model: '', path: '/dev/sdc', tags: ['ssd'] },
      ],
    });
    await db().query(
      `INSERT INTO interfaces (machine_id, name, type, mac_address, link_speed) SELECT id, 'eth0', 'physical', '52:54:00:bb:00:01', 1000 FROM machines WHERE system_id = $1`,
      [fast],
    );
    await db().query(
      `INSERT INTO interfaces (machine_id, name, type, mac_address, link_speed) SELECT id, 'eth1', 'physical', '52:54:00:bb:00:02', 25000 FROM machines WHERE system_id = $1`,
      [fast],
    );
    await db().query(`INSERT INTO tags (name) VALUES ('gpu'), ('spare')`);
    await db().query(
      `INSERT INTO machine_tags SELECT m.id, t.id FROM machines m, tags t WHERE m.system_id = $1 AND t.name = 'gpu'`,
      [fast],
    );
    await db().query(
      `INSERT INTO machine_tags SELECT m.id, t.id FROM machines m, tags t WHERE m.system_id = $1 AND t.name = 'spare'`,
      [plain],
    );

    const pick = async (form: Record<string, string | string[]>) => {
      const r = await allocate(alice, { ...form, dry_run: 'true' });
      return r.status === 200 ? ((r.body as Json).system_id as string) : r.status;
    };
    assert.equal(await pick({}), plain, 'cheapest first: cpu_count + memory/1024');
    assert.equal(await pick({ arch: 'arm64' }), arm, 'arch wildcard');
    assert.equal(await pick({ arch: 'arm64/generic' }), arm);
    assert.equal(await pick({ arch: ['i386', 'arm64'] }), arm, 'any of several arches');
    assert.equal(await pick({ cpu_speed: '3000' }), fast);
    assert.equal(await pick({ cpu_count: '4', mem: '8000' }), fast);
    assert.equal(await pick({ tags: 'gpu' }), fast);
    assert.equal(await pick({ not_tags: 'spare', arch: 'amd64' }), fast);
    assert.equal(await pick({ tags: 'gpu spare' }), 409, 'space-separated tags, all required');
    assert.equal(await pick({ name: 'fast-1' }), fast);
    assert.equal(await pick({ name: 'fast-1.maas' }), fast, 'FQDN');
    assert.equal(await pick({ system_id: disks! }), disks);
    assert.equal(await pick({ not_in_pool: 'default' }), 409);
    assert.equal(await pick({ pool: 'default', not_in_zone: 'default' }), 409);
    assert.equal(await pick({ interfaces: 'fast:link_speed=10000' }), fast);
    assert.equal(await pick({ interfaces: 'a:name=eth0;b:name=eth1,type=physical' }), fast);
    assert.equal(await pick({ interfaces: 'a:name=eth2' }), 409);

    const storage = await allocate(alice, {
      storage: 'root:50(ssd),big:1000,fast:200(ssd)',
      dry_run: 'true',
      verbose: 'true',
    });
    assert.equal(storage.status, 200, storage.text);
    const s = storage.body as Json;
    assert.equal(s.system_id, disks);
    assert.deepEqual((s.constraints_by_type as Json).storage, { root: [1], fast: [3], big: [2] });
    assert.ok((s.constraints_by_type as Json).verbose_storage, 'verbose adds verbose_storage');
    assert.equal(await pick({ storage: '200(ssd)' }), 409, 'the first constraint is the root disk (100 GB)');
    assert.equal(await pick({ storage: '50,2000(rotary),600(ssd)' }), 409, 'one device per constraint');

    const ifaces = await allocate(alice, { interfaces: 'data:name=eth1', dry_run: 'true' });
    const eth1 = ((await db().query(`SELECT id FROM interfaces WHERE name = 'eth1'`)) as Array<{ id: number }>)[0]!.id;
    assert.deepEqual(((ifaces.body as Json).constraints_by_type as Json).interfaces, { data: [eth1] });

    for (const [form, field] of [
      [{ arch: 'sparc' }, 'arch'],
      [{ cpu_speed: 'fast' }, 'cpu_speed'],
      [{ storage: 'root:lots' }, 'storage'],
      [{ interfaces: 'a:fabric_class=10g' }, 'interfaces'],
      [{ interfaces: 'a:space=nowhere' }, 'interfaces'],
      [{ interfaces: 'a:colour=red' }, 'interfaces'],
      [{ not_in_pool: 'nowhere' }, 'pool'],
    ] as Array<[Record<string, string>, string]>) {
      const r = await allocate(alice, form);
      assert.equal(r.status, 400, `${JSON.stringify(form)} → ${r.text}`);
      assert.match(r.text, new RegExp(field));
    }
    const none = await allocate(alice, { cpu_speed: '9999', tags: 'gpu' });
    assert.equal(none.status, 409);
    // MAAS's NodesNotAvailable: the parameters as sent (Python's repr) and as resolved.
    assert.equal(
      none.text,
      `No available machine matches constraints: [('cpu_speed', ['9999']), ('tags', ['gpu'])] (resolved to "cpu_speed=9999 tags=gpu")`,
    );
    const quoted = await allocate(alice, { cpu_count: '1000', comment: "it's" });
    assert.equal(quoted.status, 409, quoted.text);
    assert.equal(
      quoted.text,
      `No available machine matches constraints: [('cpu_count', ['1000']), ('comment', ["it's"])] (resolved to "cpu_count=1000")`,
    );
    const byId = await allocate(alice, { system_id: 'nosuch' });
    assert.equal(byId.status, 409, byId.text);
    assert.equal(byId.text, 'No machine with system ID nosuch available.');

    const got = await allocate(alice, { tags: 'gpu', agent_name: 'juju', comment: 'for the db' });
    assert.equal(got.status, 200, got.text);
    assert.equal((got.body as Json).owner, 'alice');
    assert.deepEqual((got.body as Json).constraints_by_type, {});
  });

  it('500 concurrent allocations by 20 users over 250 machines: 250 succeed, none twice, reservations, entitlements and constraints hold', async () => {
    await clear();
    const users = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => ({ name: `u${i}`, key: await api.keyFor(`u${i}`) })),
    );
    // teamA (u0–u4) has 50 machines reserved; teamB (u5–u9) alone may deploy from pool "restricted";
    // teamC (u10, u11) may only view it; u12 has 10 machines reserved for them alone.
    for (const [team, members] of [
      ['teamA', [0, 1, 2, 3, 4]],
      ['teamB', [5, 6, 7, 8, 9]],
      ['teamC', [10, 11]],
    ] as const) {
      assert.equal(
        (await api.call('POST', '/MAAS/api/2.0/user-groups/', { key: admin, form: { name: team } })).status,
        200,
      );
      for (const i of members)
        assert.equal(
          (
            await api.call('POST', `/MAAS/api/2.0/user-group/${team}/op-add_member`, {
              key: admin,
              form: { username: `u${i}` },
            })
          ).status,
          200,
        );
    }
    assert.equal(
      (await api.call('POST', '/MAAS/api/2.0/resourcepools/', { key: admin, form: { name: 'restricted' } })).status,
      200,
    );
    for (const [team, entitlement] of [
      ['teamB', 'deploy'],
      ['teamC', 'view'],
    ] as const) {
      const r = await api.call('POST', `/MAAS/api/2.0/user-group/${team}/op-add_entitlement`, {
        key: admin,
        form: { resource_type: 'pool', resource_id: 'restricted', entitlement },
      });
      assert.equal(r.status, 200, r.text);
    }
    const teamA = new Set(await insert(50, { prefix: 'ta', reservedGroup: 'teamA', cpu: 8 }));
    const restricted = new Set(await insert(50, { prefix: 'rs', pool: 'restricted', cpu: 2 }));
    const u12 = new Set(await insert(10, { prefix: 'u12', reservedUser: 'u12', cpu: 8 }));
    const open = new Set(await insert(140, { prefix: 'op', cpu: 4 }));
    await db().query(`UPDATE machines SET memory = 2048 WHERE hostname LIKE 'op-%' AND (id % 2) = 0`);

    const calls = Array.from({ length: 500 }, (_, i) => {
      const user = users[i % 20]!;
      const form: Record<string, string> = i % 5 === 1 ? { mem: '4096' } : i % 5 === 2 ? { cpu_count: '3' } : {};
      return { user, form };
    });
    const started = Date.now();
    const answers = await Promise.all(calls.map(async (c) => ({ ...c, r: await allocate(c.user.key, c.form) })));
    const wallMs = Date.now() - started;
    const ok = answers.filter((a) => a.r.status === 200);
    const others = answers.filter((a) => a.r.status !== 200 && a.r.status !== 409);
    assert.deepEqual(
      others.map((a) => `${a.r.status} ${a.r.text.slice(0, 200)}`),
      [],
      'only 200 or 409',
    );
    assert.equal(ok.length, 250, `exactly 250 allocations (in ${wallMs} ms)`);
    const handed = new Map<string, string>();
    for (const a of ok) {
      const body = a.r.body as Json;
      const id = body.system_id as string;
      assert.ok(!handed.has(id), `${id} handed to ${handed.get(id)} and ${a.user.name}`);
      handed.set(id, a.user.name);
      assert.equal(body.owner, a.user.name);
      const i = Number(a.user.name.slice(1));
      if (teamA.has(id)) assert.ok(i <= 4, `${id} reserved for teamA went to ${a.user.name}`);
      if (u12.has(id)) assert.equal(a.user.name, 'u12');
      if (restricted.has(id)) assert.ok(i >= 5 && i <= 9, `${id} in the restricted pool went to ${a.user.name}`);
      if (a.form.mem) assert.ok((body.memory as number) >= 4096, `${id} has ${String(body.memory)} MiB`);
      if (a.form.cpu_count) assert.ok((body.cpu_count as number) >= 3);
    }
    const rows: Array<{ system_id: string; status: number; username: string | null; events: number }> =
      await db().query(
        `SELECT m.system_id, m.status, u.username, (SELECT count(*)::int FROM events e WHERE e.machine_id = m.id AND e.type = 'Allocated') AS events
         FROM machines m LEFT JOIN users u ON u.id = m.owner_id`,
      );
    for (const r of rows) {
      assert.equal(r.status, S.ALLOCATED, `${r.system_id} is allocated`);
      assert.equal(r.username, handed.get(r.system_id), `${r.system_id}'s owner in the database`);
      assert.equal(r.events, 1);
    }
    void open;
    // Reserved machines went to their own people first: every member of teamA got reserved ones
    // before any unassigned one could be... at least the reserved set is used up by its team.
    assert.ok([...teamA].every((id) => handed.has(id)));
  });

  it('zone=X picks the machine in zone X, even when a cheaper one is elsewhere', async () => {
    await clear();
    await db().query(`INSERT INTO zones (name) VALUES ('rack-b') ON CONFLICT DO NOTHING`);
    const [cheap] = await insert(1, { prefix: 'zone-cheap', cpu: 1, mem: 1024 });
    const [inB] = await insert(1, { prefix: 'zone-b', cpu: 8, mem: 16384 });
    const [pricier] = await insert(1, { prefix: 'zone-b-big', cpu: 32, mem: 65536 });
    await db().query(
      `UPDATE machines SET zone_id = (SELECT id FROM zones WHERE name = 'rack-b') WHERE system_id = ANY($1)`,
      [[inB, pricier]],
    );
    const pick = async (form: Record<string, string>) =>
      ((await allocate(alice, { ...form, dry_run: 'true' })).body as Json).system_id;
    assert.equal(await pick({}), cheap);
    assert.equal(await pick({ zone: 'rack-b' }), inB, 'the cheapest machine of that zone');
    assert.equal(await pick({ zone: 'default' }), cheap);
    const got = await allocate(alice, { zone: 'rack-b' });
    assert.equal(got.status, 200, got.text);
    assert.equal((got.body as Json).system_id, inB);
    assert.equal(((got.body as Json).zone as Json).name, 'rack-b');
    assert.equal(
      ((await allocate(alice, { zone: 'rack-b' })).body as Json).system_id,
      pricier,
      'then the next one there',
    );
    assert.equal(
      (await allocate(alice, { zone: 'rack-b' })).status,
      409,
      'none left in the zone (the cheap one is not in it)',
    );
  });

  it('row locks, not a global lock: a READY machine held FOR UPDATE by another transaction does not stop an allocation from taking another at once', async () => {
    await clear();
    const [held] = await insert(1, { prefix: 'held', cpu: 1, mem: 1024 });
    const [free] = await insert(1, { prefix: 'free', cpu: 2, mem: 2048 });
    const client = new pg.Client({ connectionString: (db().options as { url?: string }).url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const locked = await client.query(`SELECT id FROM machines WHERE system_id = $1 FOR UPDATE`, [held]);
      assert.equal(locked.rowCount, 1);
      assert.equal(
        ((await allocate(alice, { dry_run: 'true' })).body as Json).system_id,
        held,
        'the held machine is the cheapest',
      );
      const started = Date.now();
      const got = await allocate(alice);
      const ms = Date.now() - started;
      assert.equal(got.status, 200, got.text);
      assert.equal((got.body as Json).system_id, free, 'the other machine, not a wait for the held one');
      assert.ok(ms < 2000, `promptly (${ms} ms)`);
      const status: Array<{ status: number }> = await db().query(`SELECT status FROM machines WHERE system_id = $1`, [
        held,
      ]);
      assert.equal(status[0]!.status, S.READY, 'the held one is untouched');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  });
});
