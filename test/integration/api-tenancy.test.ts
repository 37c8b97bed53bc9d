// Tenancy over real HTTP, PostgreSQL and Temporal (scripted rack): reservations (own set first,
// then unassigned, else 409; they outlive release; deploy refuses them), visibility (404 in the
// API, events and workflow links), groups with pool entitlements, race-free placement of newly
// commissioned machines, lock/unlock, and concurrent deploy/release/abort on one machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
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
  let macs = 0;
  const mac = () => `52:54:00:cc:${(macs >> 8).toString(16).padStart(2, '0')}:${(macs++ & 255).toString(16).padStart(2, '0')}`;

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

  const post = (path: string, key: string, form: Record<string, string | string[]> = {}) => api.call('POST', `/MAAS/api/2.0/${path}`, { key, form });
  const get = (path: string, key: string) => api.call('GET', `/MAAS/api/2.0/${path}`, { key });
  const ready = async (hostname: string, extra: Record<string, string> = {}) => {
    const r = await post('machines/', admin, { hostname, architecture: 'amd64/generic', mac_addresses: mac(), power_type: 'manual', ...extra });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY);
    return id;
  };
  /** Only these machines are READY for the next test (the others are parked BROKEN). */
  const only = async (ids: string[]) => region.services.db.query(`UPDATE machines SET status = $1 WHERE status = $2 AND NOT (system_id = ANY($3))`, [S.BROKEN, S.READY, ids]);

  it('reservations: own set first, then unassigned, else 409; others cannot see them; they outlive release; deploy refuses them', async () => {
    const cheap = await ready('res-cheap');
    const forAlice = await ready('res-alice');
    await region.services.db.query(`UPDATE machines SET cpu_count = 1, memory = 1024 WHERE system_id = $1`, [cheap]);
    await region.services.db.query(`UPDATE machines SET cpu_count = 64, memory = 262144 WHERE system_id = $1`, [forAlice]);
    await only([cheap, forAlice]);

    assert.equal((await post(`machines/${forAlice}/op-reserve`, alice, { reserved_for: 'alice' })).status, 403, 'users cannot reserve');
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
    for (const u of ['alice', 'carol']) assert.equal((await post('user-group/team-a/op-add_member', admin, { username: u })).status, 200);
    assert.deepEqual(((await get('user-group/team-a/', carol)).body as Json).members, ['alice', 'carol']);
    assert.equal((await get('user-group/team-a/', bob)).status, 404, "not bob's group");
    assert.deepEqual(((await get('user-groups/', bob)).body as Json[]).map((g) => g.name), []);

    const teamMachine = await ready('team-1');
    const pooled = await ready('pool-1');
    await only([teamMachine, pooled]);
    assert.equal((await post(`machines/${teamMachine}/op-reserve`, admin, { reserved_for: 'group:team-a' })).status, 200);
    assert.equal((await get(`machines/${teamMachine}/`, carol)).status, 200);
    assert.equal((await get(`machines/${teamMachine}/`, bob)).status, 404);

    assert.equal((await post('resourcepools/', admin, { name: 'secure' })).status, 200);
    assert.equal((await api.call('PUT', `/MAAS/api/2.0/machines/${pooled}/`, { key: admin, form: { pool: 'secure' } })).status, 200);
    assert.equal((await get(`machines/${pooled}/`, bob)).status, 200, 'a pool nobody is entitled to is open');
    const grant = await post('user-group/team-a/op-add_entitlement', admin, { resource_type: 'pool', resource_id: 'secure', entitlement: 'view' });
    assert.equal(grant.status, 200, grant.text);
    assert.deepEqual(grant.body, [{ resource_type: 'pool', resource_id: (grant.body as Json[])[0]!.resource_id, resource_name: 'secure', entitlement: 'view' }]);
    assert.equal((await post('user-group/team-a/op-add_entitlement', admin, { resource_type: 'pool', resource_id: 'secure', entitlement: 'own' })).status, 400);
    assert.equal((await get(`machines/${pooled}/`, bob)).status, 404, 'restricted now: bob holds no entitlement');
    assert.equal((await get(`machines/${pooled}/`, alice)).status, 200, 'view lets the team see it');
    assert.equal((await post(`machines/${pooled}/op-deploy`, alice)).status, 409, 'view does not let them take it');
    assert.equal((await post('machines/op-allocate', alice, { pool: 'secure' })).status, 409);
    assert.equal((await post('user-group/team-a/op-add_entitlement', admin, { resource_type: 'pool', resource_id: 'secure', entitlement: 'deploy' })).status, 200);

    const a = await post('machines/op-allocate', alice);
    assert.equal((a.body as Json).system_id, teamMachine, 'the team reservation first');
    const c = await post('machines/op-allocate', carol);
    assert.equal((c.body as Json).system_id, pooled, 'deploy entitlement: allocatable');
    assert.equal((await get(`machines/${teamMachine}/`, carol)).status, 404, "a teammate's allocated machine is theirs alone");
    assert.equal((await post('machines/op-allocate', bob)).status, 409);
  });

  it('places newly commissioned machines atomically: no allocation can slip in between READY and the reservation', async () => {
    assert.equal((await post('resourcepools/', admin, { name: 'team-b-pool' })).status, 200);
    assert.equal((await post('user-groups/', admin, { name: 'team-b' })).status, 200);
    assert.equal((await post('user-group/team-b/op-add_member', admin, { username: 'carol' })).status, 200);
    const rule = await post('placement-rules/', admin, { name: 'team-b-racks', priority: '10', match_hostname_prefix: 'tb-', match_arch: 'amd64', pool: 'team-b-pool', reserved_for: 'group:team-b' });
    assert.equal(rule.status, 200, rule.text);
    assert.deepEqual({ ...(rule.body as Json), id: 0 }, { id: 0, name: 'team-b-racks', priority: 10, match: { arch: 'amd64', hostname_prefix: 'tb-' }, pool: 'team-b-pool', reserved_for: 'group:team-b', resource_uri: `/MAAS/api/2.0/placement-rule/${(rule.body as Json).id as number}/` });
    assert.equal((await post('placement-rules/', alice, { name: 'x', pool: 'default' })).status, 403);
    assert.equal((await post('placement-rules/', admin, { name: 'nothing' })).status, 400, 'a rule must place somewhere');
    await only([]);

    // Bob (and an admin) hammer allocate for the whole of commissioning. With MAAS's model, the
    // machine is READY and unassigned until an admin reserves it: one of these would win.
    const r = await post('machines/', admin, { hostname: 'tb-1', architecture: 'amd64/generic', mac_addresses: mac(), power_type: 'manual' });
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
    const events: Array<{ type: string }> = await region.services.db.query(`SELECT e.type FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`, [id]);
    const types = events.map((e) => e.type);
    assert.ok(types.indexOf('Placed') >= 0 && types.indexOf('Placed') < types.lastIndexOf('Ready'), `placed in the READY transaction: ${types.join(', ')}`);
    const got = await post('machines/op-allocate', carol);
    assert.equal((got.body as Json).system_id, id, 'the team gets it');

    const other = await ready('other-1');
    assert.equal((await waitForStatus(region.services, other, S.READY)).reservedGroupId, null, 'rules apply only where they match');
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
    for (const [method, path] of [['POST', 'op-release'], ['POST', 'op-power_off'], ['PUT', ''], ['DELETE', '']] as const) {
      const res = await api.call(method, `/MAAS/api/2.0/machines/${id}/${path}`, { key: method === 'POST' ? alice : admin, form: method === 'PUT' ? { description: 'x' } : {} });
      assert.equal(res.status, 409, `${method} ${path} on a locked machine: ${res.text}`);
    }
    assert.equal(((await post(`machines/${id}/op-unlock`, admin)).body as Json).locked, false);
    assert.equal((await post(`machines/${id}/op-release`, alice)).status, 200);
    await waitForStatus(region.services, id, S.READY);
  });

  /** The machine once no operation is in progress on it. */
  const settled = async (id: string) => {
    for (let i = 0; i < 300; i++) {
      const m = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id });
      if (m.status !== S.RELEASING && m.status !== S.DEPLOYING && m.workflowId === null) return m;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`machine ${id} did not settle`);
  };

  it('concurrent deploy, release and abort on one machine: exactly one of deploy/release wins and the end state matches', async () => {
    for (let round = 0; round < 4; round++) {
      const id = await ready(`race-${round}`);
      await only([id]);
      assert.equal((await post('machines/op-allocate', alice, { system_id: id })).status, 200);
      const ops = ['deploy', 'release', 'deploy', 'release', 'abort'];
      const answers = await Promise.all(ops.map(async (op) => ({ op, r: await post(`machines/${id}/op-${op}`, alice) })));
      const won = answers.filter((a) => a.op !== 'abort' && a.r.status === 200);
      // 409: refused in the machine's state; 403: released meanwhile, so no longer the caller's.
      for (const a of answers) assert.ok([200, 403, 409].includes(a.r.status), `${a.op}: ${a.r.status} ${a.r.text}`);
      const aborted = answers.find((a) => a.op === 'abort')!.r.status === 200;
      const seen = answers.map((a) => `${a.op}:${a.r.status}`).join(' ');
      // Serially, one operation wins among those that arrive together. A second may win only after
      // the first is over: after a successful abort (release, abort, release: FAILED_RELEASING may
      // be released again) or after a release finished (release, then deploy of the READY machine).
      const kinds = won.map((a) => a.op).sort().join(',');
      assert.ok(won.length === 1 || (won.length === 2 && (aborted || kinds === 'deploy,release')), seen);
      const m = await settled(id);
      if (won.length === 1 && !aborted) {
        assert.equal(m.status, won[0]!.op === 'release' ? S.READY : S.DEPLOYED, seen);
      } else {
        assert.ok(([S.READY, S.ALLOCATED, S.DEPLOYED, S.FAILED_RELEASING] as number[]).includes(m.status), `${seen}: ended ${m.status}`);
      }
      // Owner and status agree whatever the order was.
      assert.equal(m.ownerId === null, m.status === S.READY, `${seen}: status ${m.status}, owner ${m.ownerId}`);
      if (m.status === S.DEPLOYED) {
        assert.equal((await post(`machines/${id}/op-release`, alice)).status, 200);
        await waitForStatus(region.services, id, S.READY);
      }
    }
  });
});
