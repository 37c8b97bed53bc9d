// The machines collection's bulk operations over real HTTP, PostgreSQL and Temporal: release
// (all or nothing, MAAS's 400/403/409 naming the machines), accept, accept-all and set-zone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('machines: bulk operations', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let bob: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    bob = await api.keyFor('bob');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const create = async (hostname: string, commission = true) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: macAddress(),
        power_type: 'manual',
        commission: String(commission),
      },
    });
    assert.equal(r.status, 200, r.text);
    return (r.body as Json).system_id as string;
  };
  const ready = async (hostname: string) => {
    const id = await create(hostname);
    await waitForStatus(region.services, id, S.READY);
    return id;
  };
  const allocate = async (id: string, key: string) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', { key, form: { system_id: id } });
    assert.equal(r.status, 200, r.text);
  };
  const status = async (id: string) =>
    (
      (await region.services.db.query('SELECT status FROM machines WHERE system_id = $1', [id])) as Array<{
        status: number;
      }>
    )[0]!.status;
  const bulkRelease = (key: string, machines: string[], extra: Record<string, string> = {}) =>
    api.call('POST', '/MAAS/api/2.0/machines/?op=release', { key, form: { machines, ...extra } });

  it('releases nothing when one machine cannot be released, and says which, in MAAS words', async () => {
    const a = await ready('bulk-a');
    const b = await ready('bulk-b');
    const c = await ready('bulk-c');
    await allocate(a, alice);
    await allocate(b, alice);
    await allocate(c, bob);

    // Unknown (or hidden: bob's machine is not alice's to see) → 400 naming them; nothing released.
    const unknown = await bulkRelease(alice, [a, 'nosuch', c]);
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.text, /^Unknown machine\(s\): /);
    assert.match(unknown.text, /nosuch/);
    assert.ok(unknown.text.includes(c));
    assert.equal(await status(a), S.ALLOCATED);

    const locked = await ready('bulk-locked');
    await allocate(locked, alice);
    await region.services.db.query('UPDATE machines SET locked = true WHERE system_id = $1', [locked]);
    const conflict = await bulkRelease(alice, [a, locked]);
    assert.equal(conflict.status, 409, conflict.text);
    assert.equal(
      conflict.text,
      `Machine(s) cannot be released in their current state: ${locked} ('Allocated', locked).`,
    );
    assert.equal(await status(a), S.ALLOCATED);
    await region.services.db.query('UPDATE machines SET locked = false WHERE system_id = $1', [locked]);

    const newMachine = await create('bulk-new', false);
    const wrongState = await bulkRelease(admin, [a, newMachine]);
    assert.equal(wrongState.status, 409, wrongState.text);
    assert.equal(wrongState.text, `Machine(s) cannot be released in their current state: ${newMachine} ('New').`);
    assert.equal(await status(a), S.ALLOCATED);

    // All releasable (READY ones are left alone and not listed): every release starts.
    const ok = await bulkRelease(alice, [a, b, locked, a], { comment: 'done with them' });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual([...(ok.body as string[])].sort(), [a, b, locked].sort());
    for (const id of [a, b, locked]) await waitForStatus(region.services, id, S.READY);
    const events = (await region.services.db.query(
      `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 AND e.type = 'User releasing node'`,
      [a],
    )) as Array<{ description: string }>;
    assert.ok(
      events.some((e) => e.description === '(alice) - done with them'),
      JSON.stringify(events),
    );

    // Released, a is nobody's: alice may not release it again (MAAS: edit permission first), and
    // for an admin a READY machine is left alone.
    assert.equal((await bulkRelease(alice, [a])).status, 403);
    const again = await bulkRelease(admin, [a]);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, []);
    assert.deepEqual((await bulkRelease(alice, [])).body, []);
  });

  it('is a 403 naming the machines the caller may see but not release', async () => {
    const d = await ready('bulk-d');
    await allocate(d, bob);
    // Unowned (so alice sees it) but not hers to release.
    await region.services.db.query(`UPDATE machines SET owner_id = NULL WHERE system_id = $1`, [d]);
    const r = await bulkRelease(alice, [d]);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.text, `You don't have the required permission to release the following machine(s): ${d}.`);
    assert.equal(await status(d), S.ALLOCATED);
  });

  it('accept: NEW machines start commissioning; others already accepted are left out; 400/403/409 name the machines', async () => {
    const n1 = await create('accept-1', false);
    const n2 = await create('accept-2', false);
    const done = await ready('accept-ready');
    const post = (key: string, op: string, form: Record<string, string | string[]> = {}) =>
      api.call('POST', `/MAAS/api/2.0/machines/?op=${op}`, { key, form });

    const unknown = await post(admin, 'accept', { machines: [n1, 'nosuch'] });
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal(unknown.text, 'Unknown machine(s): nosuch.');
    const denied = await post(alice, 'accept', { machines: [n1] });
    assert.equal(denied.status, 403, denied.text);
    assert.equal(denied.text, `You don't have the required permission to accept the following machine(s): ${n1}.`);
    await region.services.db.query('UPDATE machines SET status = $2 WHERE system_id = $1', [n2, S.BROKEN]);
    const wrong = await post(admin, 'accept', { machines: [n1, n2] });
    assert.equal(wrong.status, 409, wrong.text);
    assert.equal(wrong.text, `Cannot accept node enlistment: node ${n2} is in state Broken.`);
    assert.equal(await status(n1), S.NEW);

    // What an aborted `commission skip_storage=true` leaves behind must not reach the accepted
    // commissioning (this scripted rack sends no hardware report, which would clear it too).
    await region.services.db.query(`UPDATE machines SET skip_storage = true WHERE system_id = $1`, [n1]);
    const ok = await post(admin, 'accept', { machines: [n1, done] });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(
      (ok.body as Json[]).map((m) => m.system_id),
      [n1],
    );
    const accepted = await waitForStatus(region.services, n1, S.READY);
    assert.equal(accepted.skipStorage, false);

    await region.services.db.query('UPDATE machines SET status = $2 WHERE system_id = $1', [n2, S.NEW]);
    assert.deepEqual((await post(alice, 'accept_all')).body, []);
    const all = await post(admin, 'accept_all');
    assert.equal(all.status, 200, all.text);
    assert.ok(
      (all.body as Json[]).some((m) => m.system_id === n2),
      all.text,
    );
    await waitForStatus(region.services, n2, S.READY);
  });

  it('set_zone moves every node named, or none (admins)', async () => {
    await api.call('POST', '/MAAS/api/2.0/zones/', { key: admin, form: { name: 'bulk-zone' } });
    const a = await create('zone-a', false);
    const b = await create('zone-b', false);
    const zoneOf = async (id: string) =>
      (
        (await region.services.db.query(
          'SELECT z.name FROM machines m JOIN zones z ON z.id = m.zone_id WHERE m.system_id = $1',
          [id],
        )) as Array<{ name: string }>
      )[0]!.name;
    const setZone = (key: string, form: Record<string, string | string[]>) =>
      api.call('POST', '/MAAS/api/2.0/machines/?op=set_zone', { key, form });

    const user = await setZone(alice, { zone: 'bulk-zone', nodes: [a] });
    assert.equal(user.status, 403, user.text);
    const missing = await setZone(admin, { zone: 'bulk-zone', nodes: [a, 'nosuch'] });
    assert.equal(missing.status, 400, missing.text);
    assert.deepEqual(missing.body, { system_id: ['Some of the given system ids are invalid system ids.'] });
    assert.equal(await zoneOf(a), 'default');
    const noZone = await setZone(admin, { zone: 'nozone', nodes: [a] });
    assert.equal(noZone.status, 400, noZone.text);
    assert.ok('zone' in (noZone.body as Json));

    const ok = await setZone(admin, { zone: 'bulk-zone', nodes: [a, b] });
    assert.equal(ok.status, 204, ok.text);
    assert.equal(await zoneOf(a), 'bulk-zone');
    assert.equal(await zoneOf(b), 'bulk-zone');
  });
});
