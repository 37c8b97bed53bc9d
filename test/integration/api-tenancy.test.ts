// Tenancy over real HTTP, PostgreSQL and Temporal (scripted rack): reservations (own set first,
// then unassigned, else 409; they outlive release; deploy refuses them), visibility (404 in the
// API, events and workflow links), groups with pool entitlements, race-free placement of newly
// commissioned machines, lock/unlock (concurrent deploy/release/abort: api-status-races.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('MAAS API: tenancy (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let bob: string;
  let carol: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    bob = await api.keyFor('bob');
    carol = await api.keyFor('carol');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const post = (path: string, key: string, form: Record<string, string | string[]> = {}) =>
    api.call('POST', `/MAAS/api/2.0/${path}`, { key, form });
  const get = (path: string, key: string) => api.call('GET', `/MAAS/api/2.0/${path}`, { key });
  const ready = async (hostname: string, extra: Record<string, string> = {}) => {
    const r = await post('machines/', admin, {
      hostname,
      architecture: 'amd64/generic',
      mac_addresses: macAddress(),
      power_type: 'manual',
      ...extra,
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY);
    return id;
  };
  /** Only these machines are READY for the next test (the others are parked BROKEN). */
  const only = async (ids: string[]) =>
    region.services.db.query(`UPDATE machines SET status = $1 WHERE status = $2 AND NOT (system_id = ANY($3))`, [
      S.BROKEN,
      S.READY,
      ids,
    ]);

  it('reservations: own set first, then unassigned, else 409; others cannot see them; they outlive release; deploy refuses them', async () => {
    const cheap = await ready('res-cheap');
    const forAlice = await ready('res-alice');
    await region.services.db.query(`UPDATE machines SET cpu_count = 1, memory = 1024 WHERE system_id = $1`, [cheap]);
    await region.services.db.query(`UPDATE machines SET cpu_count = 64, memory = 262144 WHERE system_id = $1`, [
      forAlice,
    ]);
    await only([cheap, forAlice]);

    assert.equal(
      (await post(`machines/${forAlice}/op-reserve`, alice, { reserved_for: 'alice' })).status,
      403,
      'users cannot reserve',
    );
    const bad = await post(`machines/${forAlice}/op-reserve`, admin, { reserved_for: 'nobody' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /reserved_for/);
    const reserved = await post(`machines/${forAlice}/op-reserve`, admin, { reserved_for: 'alice' });
    assert.equal(reserved.status, 200, reserved.text);
    assert.equal((reserved.body as Json).reserved_for, 'alice');

    assert.equal((await get(`machines/${forAlice}/`, bob)).status, 404, 'reserved for someone else: not there');
    assert.ok(!((await get('machines/', bob)).body as Json[]).some((m) => m.system_id === forAlice));
    const bobEvents = (await get(`events/?op=query&id=${forAlice}`, bob)).body as { events: unknown[] };
    assert.equal(bobEvents.events.length, 0, 'nor its events');
    assert.equal((await post(`machines/${forAlice}/op-deploy`, bob)).status, 404);
    assert.equal((await post('machines/op-allocate', bob, { system_id: forAlice })).status, 409);

    const first = await post('machines/op-allocate', alice);
    assert.equal((first.body as Json).system_id, forAlice, 'her reserved machine before the cheaper unassigned one');
    const second = await post('machines/op-allocate', alice);
    assert.equal((second.body as Json).system_id, cheap, 'then an unassigned one');
    assert.equal((await post('machines/op-allocate', alice)).status, 409, 'then nothing');

    assert.equal((await post(`machines/${forAlice}/op-release`, alice)).status, 200);
    const back = await waitForStatus(region.services, forAlice, S.READY);
    assert.equal(back.ownerId, null);
    assert.ok(back.reservedUserId !== null, 'still reserved after release');
    assert.equal((await get(`machines/${forAlice}/`, bob)).status, 404);

    const adminDeploy = await post(`machines/${forAlice}/op-deploy`, admin);
    assert.equal(adminDeploy.status, 409, 'an admin cannot take it either without unreserving');
    assert.match(adminDeploy.text, /reserved/);
    assert.equal(((await post(`machines/${forAlice}/op-unreserve`, admin)).body as Json).reserved_for, null);
    assert.equal((await get(`machines/${forAlice}/`, bob)).status, 200, 'unassigned again: visible');
  });

  it('groups: a team shares its reservations, each member with their own key; pool entitlements decide who sees and who deploys', async () => {
    const team = await post('user-groups/', admin, { name: 'team-a', description: 'A team' });
    assert.equal(team.status, 200, team.text);
    assert.equal((await post('user-groups/', alice, { name: 'mine' })).status, 403);
    assert.equal((await post('user-groups/', admin, { name: 'team-a' })).status, 400);
    for (const u of ['alice', 'carol'])
      assert.equal((await post('user-group/team-a/op-add_member', admin, { username: u })).status, 200);
    assert.deepEqual(((await get('user-group/team-a/', carol)).body as Json).members, ['alice', 'carol']);
    assert.equal((await get('user-group/team-a/', bob)).status, 404, "not bob's group");
    assert.deepEqual(
      ((await get('user-groups/', bob)).body as Json[]).map((g) => g.name),
      [],
    );

    const teamMachine = await ready('team-1');
    const pooled = await ready('pool-1');
    await only([teamMachine, pooled]);
    assert.equal(
      (await post(`machines/${teamMachine}/op-reserve`, admin, { reserved_for: 'group:team-a' })).status,
      200,
    );
    assert.equal((await get(`machines/${teamMachine}/`, carol)).status, 200);
    assert.equal((await get(`machines/${teamMachine}/`, bob)).status, 404);

    assert.equal((await post('resourcepools/', admin, { name: 'secure' })).status, 200);
    assert.equal(
      (await api.call('PUT', `/MAAS/api/2.0/machines/${pooled}/`, { key: admin, form: { pool: 'secure' } })).status,
      200,
    );
    assert.equal((await get(`machines/${pooled}/`, bob)).status, 200, 'a pool nobody is entitled to is open');
    const grant = await post('user-group/team-a/op-add_entitlement', admin, {
      resource_type: 'pool',
      resource_id: 'secure',
      entitlement: 'view',
    });
    assert.equal(grant.status, 200, grant.text);
    assert.deepEqual(grant.body, [
      {
        resource_type: 'pool',
        resource_id: (grant.body as Json[])[0]!.resource_id,
        resource_name: 'secure',
        entitlement: 'view',
      },
    ]);
    assert.equal(
      (
        await post('user-group/team-a/op-add_entitlement', admin, {
          resource_type: 'pool',
          resource_id: 'secure',
          entitlement: 'own',
        })
      ).status,
      400,
    );
    assert.equal((await get(`machines/${pooled}/`, bob)).status, 404, 'restricted now: bob holds no entitlement');
    assert.equal((await get(`machines/${pooled}/`, alice)).status, 200, 'view lets the team see it');
    assert.equal((await post(`machines/${pooled}/op-deploy`, alice)).status, 409, 'view does not let them take it');
    assert.equal((await post('machines/op-allocate', alice, { pool: 'secure' })).status, 409);
    assert.equal(
      (
        await post('user-group/team-a/op-add_entitlement', admin, {
          resource_type: 'pool',
          resource_id: 'secure',
          entitlement: 'deploy',
        })
      ).status,
      200,
    );

    const a = await post('machines/op-allocate', alice);
    assert.equal((a.body as Json).system_id, teamMachine, 'the team reservation first');
    const c = await post('machines/op-allocate', carol);
    assert.equal((c.body as Json).system_id, pooled, 'deploy entitlement: allocatable');
    assert.equal(
      (await get(`machines/${teamMachine}/`, carol)).status,
      404,
      "a teammate's allocated machine is theirs alone",
    );
    assert.equal((await post('machines/op-allocate', bob)).status, 409);
  });

  it('places newly commissioned machines atomically: no allocation can slip in between READY and the reservation', async () => {
    assert.equal((await post('resourcepools/', admin, { name: 'team-b-pool' })).status, 200);
    assert.equal((await post('user-groups/', admin, { name: 'team-b' })).status, 200);
    assert.equal((await post('user-group/team-b/op-add_member', admin, { username: 'carol' })).status, 200);
    const rule = await post('placement-rules/', admin, {
      name: 'team-b-racks',
      priority: '10',
      match_hostname_prefix: 'tb-',
      match_arch: 'amd64',
      pool: 'team-b-pool',
      reserved_for: 'group:team-b',
    });
    assert.equal(rule.status, 200, rule.text);
    assert.deepEqual(
      { ...(rule.body as Json), id: 0 },
      {
        id: 0,
        name: 'team-b-racks',
        priority: 10,
        match: { arch: 'amd64', hostname_prefix: 'tb-' },
        pool: 'team-b-pool',
        reserved_for: 'group:team-b',
        resource_uri: `/MAAS/api/2.0/placement-rule/${(rule.body as Json).id as number}/`,
      },
    );
    assert.equal((await post('placement-rules/', alice, { name: 'x', pool: 'default' })).status, 403);
    assert.equal(
      (await post('placement-rules/', admin, { name: 'nothing' })).status,
      400,
      'a rule must place somewhere',
    );
    await only([]);

    // Bob (and an admin) hammer allocate for the whole of commissioning. With MAAS's model, the
    // machine is READY and unassigned until an admin reserves it: one of these would win.
    const r = await post('machines/', admin, {
      hostname: 'tb-1',
      architecture: 'amd64/generic',
      mac_addresses: macAddress(),
      power_type: 'manual',
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    let done = false;
    const statuses: number[] = [];
    const hammer = async (key: string) => {
      while (!done) statuses.push((await post('machines/op-allocate', key, { system_id: id })).status);
    };
    const hammers = [hammer(bob), hammer(bob), hammer(admin)];
    const m = await waitForStatus(region.services, id, S.READY);
    await new Promise((res) => setTimeout(res, 200));
    done = true;
    await Promise.all(hammers);
    assert.ok(statuses.length > 10, `allocations were tried throughout (${statuses.length})`);
    assert.deepEqual([...new Set(statuses)], [409], 'none of them got it');
    assert.equal(m.ownerId, null);
    assert.ok(m.reservedGroupId !== null);
    const view = (await get(`machines/${id}/`, carol)).body as Json;
    assert.equal(view.reserved_for, 'group:team-b');
    assert.equal((view.pool as Json).name, 'team-b-pool');
    const events: Array<{ type: string }> = await region.services.db.query(
      `SELECT e.type FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
      [id],
    );
    const types = events.map((e) => e.type);
    assert.ok(
      types.indexOf('Placed') >= 0 && types.indexOf('Placed') < types.lastIndexOf('Ready'),
      `placed in the READY transaction: ${types.join(', ')}`,
    );
    const got = await post('machines/op-allocate', carol);
    assert.equal((got.body as Json).system_id, id, 'the team gets it');

    const other = await ready('other-1');
    assert.equal(
      (await waitForStatus(region.services, other, S.READY)).reservedGroupId,
      null,
      'rules apply only where they match',
    );
  });

  it('lock/unlock as MAAS: only deployed or deploying machines; a locked one refuses release, power, edit, delete', async () => {
    const id = await ready('lock-1');
    await only([id]);
    assert.equal((await post(`machines/${id}/op-lock`, admin)).status, 409, 'READY cannot be locked');
    assert.equal((await post(`machines/${id}/op-deploy`, alice)).status, 200);
    await waitForStatus(region.services, id, S.DEPLOYED);
    assert.equal((await post(`machines/${id}/op-lock`, bob)).status, 404, "bob cannot see alice's machine");
    const locked = await post(`machines/${id}/op-lock`, alice, { comment: 'prod db' });
    assert.equal((locked.body as Json).locked, true);
    for (const [method, path] of [
      ['POST', 'op-release'],
      ['POST', 'op-power_off'],
      ['PUT', ''],
      ['DELETE', ''],
    ] as const) {
      const res = await api.call(method, `/MAAS/api/2.0/machines/${id}/${path}`, {
        key: method === 'POST' ? alice : admin,
        form: method === 'PUT' ? { description: 'x' } : {},
      });
      assert.equal(res.status, 409, `${method} ${path} on a locked machine: ${res.text}`);
    }
    assert.equal(((await post(`machines/${id}/op-unlock`, admin)).body as Json).locked, false);
    assert.equal((await post(`machines/${id}/op-release`, alice)).status, 200);
    await waitForStatus(region.services, id, S.READY);
  });

  const put = (path: string, key: string, form: Record<string, string> = {}) =>
    api.call('PUT', `/MAAS/api/2.0/${path}`, { key, form });
  const one = async (sql: string, params: unknown[]) =>
    Number(((await region.services.db.query(sql, params)) as Array<{ id: number }>)[0]!.id);

  it('placement by subnet and VLAN: machines on different networks land with different owners and pools; unknown networks are a 400 naming the field', async () => {
    const fabric = await one(`INSERT INTO fabrics (name) VALUES ('place-fabric') RETURNING id`, []);
    const vlanX = await one(`INSERT INTO vlans (fabric_id, vid, name) VALUES ($1, 31, 'place-x') RETURNING id`, [
      fabric,
    ]);
    const vlanY = await one(`INSERT INTO vlans (fabric_id, vid, name) VALUES ($1, 32, 'place-y') RETURNING id`, [
      fabric,
    ]);
    const netX = await one(
      `INSERT INTO subnets (name, cidr, vlan_id) VALUES ('place-net-x', '10.31.0.0/24', $1) RETURNING id`,
      [vlanX],
    );
    const netY = await one(
      `INSERT INTO subnets (name, cidr, vlan_id) VALUES ('place-net-y', '10.32.0.0/24', $1) RETURNING id`,
      [vlanY],
    );
    for (const pool of ['net-x-pool', 'net-y-pool'])
      assert.equal((await post('resourcepools/', admin, { name: pool })).status, 200);

    for (const [form, field] of [
      [{ match_subnets: 'cidr:10.99.0.0/24' }, 'match_subnets'],
      [{ match_vlans: 'name:nowhere' }, 'match_vlans'],
      [{ match_subnets: 'colour:red' }, 'match_subnets'],
    ] as const) {
      const r = await post('placement-rules/', admin, { name: 'bad-net', pool: 'net-x-pool', ...form });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, new RegExp(field));
    }
    const byNet = await post('placement-rules/', admin, {
      name: 'on-net-x',
      match_subnets: 'cidr:10.31.0.0/24',
      pool: 'net-x-pool',
      reserved_for: 'alice',
    });
    assert.equal(byNet.status, 200, byNet.text);
    assert.deepEqual((byNet.body as Json).match, { subnets: [netX] });
    const byVlan = await post('placement-rules/', admin, {
      name: 'on-vlan-y',
      match_vlans: 'vid:32',
      pool: 'net-y-pool',
      reserved_for: 'bob',
    });
    assert.equal(byVlan.status, 200, byVlan.text);
    assert.deepEqual((byVlan.body as Json).match, { vlans: [vlanY] });

    // Attached as allocate sees it: a DHCP lease of one of its MACs (x), a reserved IP (y).
    const [macX, macY] = [macAddress(), macAddress()];
    await region.services.db.query(
      `INSERT INTO dhcp_leases (ip, mac_address, subnet_id) VALUES ('10.31.0.10', $1::macaddr, $2)`,
      [macX, netX],
    );
    await region.services.db.query(
      `INSERT INTO reserved_ips (subnet_id, ip, mac_address) VALUES ($1, '10.32.0.10', $2::macaddr)`,
      [netY, macY],
    );
    const create = async (hostname: string, m: string) => {
      const r = await post('machines/', admin, {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: m,
        power_type: 'manual',
      });
      assert.equal(r.status, 200, r.text);
      return waitForStatus(region.services, (r.body as Json).system_id as string, S.READY);
    };
    const [x, y, none] = [
      await create('net-x-1', macX),
      await create('net-y-1', macY),
      await create('net-none-1', macAddress()),
    ];
    const poolOf = async (id: number | null) =>
      (
        (await region.services.db.query(`SELECT name FROM resource_pools WHERE id = $1`, [id])) as Array<{
          name: string;
        }>
      )[0]?.name;
    assert.equal(await poolOf(x.poolId), 'net-x-pool');
    assert.equal(await poolOf(y.poolId), 'net-y-pool');
    assert.equal(await poolOf(none.poolId), 'default', 'on neither network: no rule');
    const userId = async (name: string) => one(`SELECT id FROM users WHERE username = $1`, [name]);
    assert.equal(x.reservedUserId, await userId('alice'));
    assert.equal(y.reservedUserId, await userId('bob'));
    assert.equal(none.reservedUserId, null);
    assert.equal((await get(`machines/${x.systemId}/`, bob)).status, 404, "alice's by placement");
    assert.equal((await get(`machines/${y.systemId}/`, alice)).status, 404, "bob's by placement");
    for (const rule of [byNet, byVlan])
      assert.equal(
        (await api.call('DELETE', `/MAAS/api/2.0/placement-rule/${(rule.body as Json).id as number}/`, { key: admin }))
          .status,
        204,
      );
  });

  it('every way to READY places an unplaced machine (mark_fixed after a broken commissioning, release of a registered deployed machine), never over an existing reservation', async () => {
    assert.equal((await post('resourcepools/', admin, { name: 'fixed-pool' })).status, 200);
    const rule = await post('placement-rules/', admin, {
      name: 'late',
      match_hostname_prefix: 'late-',
      pool: 'fixed-pool',
      reserved_for: 'carol',
    });
    assert.equal(rule.status, 200, rule.text);
    const carolId = await one(`SELECT id FROM users WHERE username = 'carol'`, []);
    const bobId = await one(`SELECT id FROM users WHERE username = 'bob'`, []);

    // Commissioning that never finishes, marked broken, then fixed: READY, so placed then.
    const brokenCommissioning = async (hostname: string, reserveFor?: string) => {
      const r = await post('machines/', admin, {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: macAddress(),
        power_type: 'manual',
        commission: 'false',
      });
      assert.equal(r.status, 200, r.text);
      const id = (r.body as Json).system_id as string;
      rack.behaviour.set(id, 'silent');
      if (reserveFor)
        assert.equal((await post(`machines/${id}/op-reserve`, admin, { reserved_for: reserveFor })).status, 200);
      assert.equal((await post(`machines/${id}/op-commission`, admin)).status, 200);
      await waitForStatus(region.services, id, S.COMMISSIONING);
      // Once the workflow has claimed the machine and powered it on (its first step would take a
      // BROKEN machine over again).
      for (let i = 0; i < 100 && !rack.calls.includes(`on:${id}`); i++) await new Promise((res) => setTimeout(res, 50));
      assert.ok(rack.calls.includes(`on:${id}`));
      assert.equal((await post(`machines/${id}/op-mark_broken`, admin, { comment: 'stuck' })).status, 200);
      const fixed = await post(`machines/${id}/op-mark_fixed`, admin);
      assert.equal(fixed.status, 200, fixed.text);
      return region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id });
    };
    const fixed = await brokenCommissioning('late-fixed');
    assert.equal(fixed.status, S.READY);
    assert.equal(fixed.reservedUserId, carolId, 'placed as it became READY');
    const kept = await brokenCommissioning('late-kept', 'bob');
    assert.equal(kept.status, S.READY);
    assert.equal(kept.reservedUserId, bobId, 'an existing reservation is never overridden');
    assert.notEqual(kept.poolId, fixed.poolId, 'a reserved machine is left where it is');

    // Registered as deployed (never commissioned), hardware reported, released: READY, placed.
    const reg = await post('machines/', admin, { hostname: 'late-deployed', deployed: 'true', power_type: 'manual' });
    assert.equal(reg.status, 200, reg.text);
    const dep = (reg.body as Json).system_id as string;
    await waitForStatus(region.services, dep, S.DEPLOYED);
    await region.services.db.query(`UPDATE machines SET commissioning_passed = true WHERE system_id = $1`, [dep]);
    assert.equal((await post(`machines/${dep}/op-release`, admin)).status, 200);
    const released = await waitForStatus(region.services, dep, S.READY);
    assert.equal(released.reservedUserId, carolId);
    assert.equal(((await get(`machines/${dep}/`, carol)).body as Json).reserved_for, 'carol');

    // Placed once: moved by hand, it stays where the admin put it through later READYs.
    assert.equal((await put(`machines/${fixed.systemId}/`, admin, { pool: 'default' })).status, 200);
    assert.equal((await post(`machines/${fixed.systemId}/op-mark_broken`, admin)).status, 200);
    assert.equal((await post(`machines/${fixed.systemId}/op-mark_fixed`, admin)).status, 200);
    const again = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: fixed.systemId });
    assert.equal(await one(`SELECT id FROM resource_pools WHERE name = 'default'`, []), again.poolId);
    assert.equal(
      (await api.call('DELETE', `/MAAS/api/2.0/placement-rule/${(rule.body as Json).id as number}/`, { key: admin }))
        .status,
      204,
    );
  });

  it("pool admin: members administer the pool's machines (release others', lock, mark broken/fixed, commission, edit), not other pools'", async () => {
    const dave = await api.keyFor('dave');
    assert.equal((await post('resourcepools/', admin, { name: 'ops-pool' })).status, 200);
    const inPool = await ready('ops-1');
    const elsewhere = await ready('ops-2');
    await only([inPool, elsewhere]);
    assert.equal((await put(`machines/${inPool}/`, admin, { pool: 'ops-pool' })).status, 200);
    for (const id of [inPool, elsewhere])
      assert.equal((await post('machines/op-allocate', alice, { system_id: id })).status, 200);
    assert.equal((await post('user-groups/', admin, { name: 'ops' })).status, 200);
    assert.equal((await post('user-group/ops/op-add_member', admin, { username: 'dave' })).status, 200);
    assert.equal(
      (
        await post('user-group/ops/op-add_entitlement', admin, {
          resource_type: 'pool',
          resource_id: 'ops-pool',
          entitlement: 'admin',
        })
      ).status,
      200,
    );

    assert.equal((await get(`machines/${inPool}/`, dave)).status, 200, "a pool admin sees alice's machine in the pool");
    assert.equal(
      (await post(`machines/${elsewhere}/op-release`, dave)).status,
      404,
      "alice's machine in another pool: not visible",
    );
    assert.equal((await put(`machines/${inPool}/`, dave, { description: 'racked in row 3' })).status, 200, 'edit');
    assert.equal(
      (await put(`machines/${inPool}/`, dave, { pool: 'default' })).status,
      403,
      'not into a pool they do not administer',
    );
    for (const power of [{ power_parameters_power_address: '203.0.113.9' }, { power_type: 'manual' }] as Array<
      Record<string, string>
    >) {
      const r = await put(`machines/${inPool}/`, dave, power);
      assert.equal(r.status, 403, `BMC settings stay with admins: ${r.text}`);
    }
    assert.equal((await put(`machines/${inPool}/`, bob, { description: 'x' })).status, 404);
    const released = await post(`machines/${inPool}/op-release`, dave);
    assert.equal(released.status, 200, released.text);
    const back = await waitForStatus(region.services, inPool, S.READY);
    assert.equal(back.ownerId, null);
    assert.equal((await post(`machines/${inPool}/op-mark_broken`, dave)).status, 200);
    assert.equal((await post(`machines/${inPool}/op-mark_fixed`, dave)).status, 200);
    assert.equal((await post(`machines/${inPool}/op-commission`, dave)).status, 200);
    await waitForStatus(region.services, inPool, S.READY);
    assert.equal(
      (await post(`machines/${inPool}/op-commission`, bob)).status,
      404,
      'restricted pool: bob cannot see it',
    );
    // Lock/unlock a machine someone else deployed in the pool.
    assert.equal((await post(`machines/${inPool}/op-deploy`, dave)).status, 200);
    await waitForStatus(region.services, inPool, S.DEPLOYED);
    await region.services.db.query(
      `UPDATE machines SET owner_id = (SELECT id FROM users WHERE username = 'alice') WHERE system_id = $1`,
      [inPool],
    );
    assert.equal(((await post(`machines/${inPool}/op-lock`, dave)).body as Json).locked, true);
    assert.equal(((await post(`machines/${inPool}/op-unlock`, dave)).body as Json).locked, false);
    assert.equal((await post(`machines/${elsewhere}/op-release`, alice)).status, 200);
    await waitForStatus(region.services, elsewhere, S.READY);
  });

  it('fails closed: a pool whose last entitled group is deleted stays restricted (admins only) until an admin opens it', async () => {
    assert.equal((await post('resourcepools/', admin, { name: 'closing' })).status, 200);
    const id = await ready('closing-1');
    await only([id]);
    assert.equal((await put(`machines/${id}/`, admin, { pool: 'closing' })).status, 200);
    assert.equal((await post('user-groups/', admin, { name: 'temp' })).status, 200);
    assert.equal((await post('user-group/temp/op-add_member', admin, { username: 'bob' })).status, 200);
    assert.equal(
      (
        await post('user-group/temp/op-add_entitlement', admin, {
          resource_type: 'pool',
          resource_id: 'closing',
          entitlement: 'deploy',
        })
      ).status,
      200,
    );
    assert.equal((await get(`machines/${id}/`, alice)).status, 404);
    assert.equal((await get(`machines/${id}/`, bob)).status, 200);
    const open = await put('resourcepool/closing/', admin, { restricted: 'false' });
    assert.equal(open.status, 400, 'not while a group holds an entitlement');
    assert.match(open.text, /restricted/);

    assert.equal((await api.call('DELETE', '/MAAS/api/2.0/user-group/temp/', { key: admin })).status, 204);
    assert.equal(
      (
        await region.services.db.query(
          `SELECT 1 FROM pool_entitlements pe JOIN resource_pools p ON p.id = pe.pool_id WHERE p.name = 'closing'`,
        )
      ).length,
      0,
      'cascaded',
    );
    for (const key of [alice, bob]) {
      assert.equal((await get(`machines/${id}/`, key)).status, 404, 'still restricted, not open to all');
      assert.equal((await post('machines/op-allocate', key, { system_id: id })).status, 409);
    }
    assert.equal((await get(`machines/${id}/`, admin)).status, 200);
    assert.equal((await put('resourcepool/closing/', admin, { restricted: 'false' })).status, 200);
    assert.equal((await get(`machines/${id}/`, alice)).status, 200, 'opened by an admin');
  });

  it('machine tokens: a user who can see a machine but does not own it gets 403 from get_token and regenerate_token', async () => {
    const unowned = await ready('tok-unowned');
    const viewed = await ready('tok-viewed');
    assert.equal((await post('resourcepools/', admin, { name: 'tok-pool' })).status, 200);
    assert.equal((await put(`machines/${viewed}/`, admin, { pool: 'tok-pool' })).status, 200);
    assert.equal((await post('user-groups/', admin, { name: 'tok-viewers' })).status, 200);
    assert.equal((await post('user-group/tok-viewers/op-add_member', admin, { username: 'bob' })).status, 200);
    assert.equal(
      (
        await post('user-group/tok-viewers/op-add_entitlement', admin, {
          resource_type: 'pool',
          resource_id: 'tok-pool',
          entitlement: 'view',
        })
      ).status,
      200,
    );
    for (const id of [unowned, viewed]) {
      assert.equal((await get(`machines/${id}/`, bob)).status, 200, 'bob can see it');
      const before = (await get(`machines/${id}/?op=get_token`, admin)).body as Json;
      assert.equal((await get(`machines/${id}/?op=get_token`, bob)).status, 403);
      assert.equal((await post(`machines/${id}/op-regenerate_token`, bob)).status, 403);
      assert.equal(
        ((await get(`machines/${id}/?op=get_token`, admin)).body as Json).token_key,
        before.token_key,
        'not regenerated',
      );
    }
  });
});
