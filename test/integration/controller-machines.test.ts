// Issue 7: controllers (each rack, the region) appear as DEPLOYED, locked machines with a workload
// annotation; removing a rack controller unlocks its machine, or deletes it when it has no BMC.
// Real HTTP on real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { machineResources } from '../../src/api/resources/machines';
import { rackControllerResources } from '../../src/api/resources/rackcontrollers';
import { regionControllerResources } from '../../src/api/resources/regioncontrollers';
import { PRESENT, startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('controllers as machines', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;

  before(async () => {
    api = await startResourceApi((services) => [
      ...machineResources(services, PRESENT),
      ...rackControllerResources({ services }),
      ...regionControllerResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
  });
  after(async () => api?.close());

  const machines = async () => (await api.call('GET', `${API}/machines/`, { key: admin })).body as Json[];
  const byHostname = async (h: string) => (await machines()).filter((m) => m.hostname === h);
  const annotations = async (systemId: string) =>
    (
      (await api.services.db.query(`SELECT workload_annotations AS a FROM machines WHERE system_id = $1`, [
        systemId,
      ])) as Array<{ a: Record<string, string> }>
    )[0]?.a;

  it('a registering rack becomes a DEPLOYED, locked, manual, unowned machine with its MACs; again (and concurrently) updates it', async () => {
    const reg = {
      name: 'rack-one',
      version: 'test',
      interfaces: [
        { name: 'eth0', mac: '02:00:00:00:01:01', addresses: ['10.1.0.1/24'] },
        { name: 'lo', mac: '00:00:00:00:00:00', addresses: ['127.0.0.1/8'] },
      ],
    };
    const results = await Promise.all(Array.from({ length: 6 }, () => api.services.racks.register(reg)));
    const rackId = results[0]!.systemId;
    assert.ok(results.every((r) => r.systemId === rackId));
    const found = await byHostname('rack-one');
    assert.equal(found.length, 1, 'one machine');
    const m = found[0]!;
    assert.equal(m.status_name, 'Deployed');
    assert.equal(m.locked, true);
    assert.equal(m.owner, null);
    assert.equal(m.power_type, 'manual');
    assert.deepEqual(
      (m.interface_set as Json[]).map((i) => i.mac_address),
      ['02:00:00:00:01:01'],
    );
    assert.deepEqual(await annotations(m.system_id as string), { controller: 'rack', rack_system_id: rackId });

    // A new NIC is added on re-registration; still one machine.
    await api.services.racks.register({
      ...reg,
      interfaces: [...reg.interfaces, { name: 'eth1', mac: '02:00:00:00:01:02', addresses: [] }],
    });
    const again = await byHostname('rack-one');
    assert.equal(again.length, 1);
    assert.equal(again[0]!.system_id, m.system_id);
    assert.deepEqual((again[0]!.interface_set as Json[]).map((i) => i.mac_address).sort(), [
      '02:00:00:00:01:01',
      '02:00:00:00:01:02',
    ]);

    // Locked: not released, edited or deleted through the API.
    assert.equal(
      (await api.call('POST', `${API}/machines/${m.system_id as string}/op-release`, { key: admin })).status,
      409,
    );
    assert.equal((await api.call('DELETE', `${API}/machines/${m.system_id as string}/`, { key: admin })).status, 409);
  });

  it('different racks registering at once get one machine each', async () => {
    await Promise.all(
      ['rack-p', 'rack-q', 'rack-r'].map((name, i) =>
        api.services.racks.register({
          name,
          version: 'test',
          interfaces: [{ name: 'eth0', mac: `02:00:00:00:02:0${i}`, addresses: [] }],
        }),
      ),
    );
    for (const name of ['rack-p', 'rack-q', 'rack-r']) assert.equal((await byHostname(name)).length, 1, name);
  });

  it('the region and a rack on the same host (a shared MAC) are one machine, controller=rack+region', async () => {
    const sid = await api.services.controllers.ensureMachine({
      role: 'region',
      id: 'region-host',
      hostname: 'region-host',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:03:01' }],
    });
    assert.equal(
      await api.services.controllers.ensureMachine({
        role: 'region',
        id: 'region-host',
        hostname: 'region-host',
        interfaces: [],
      }),
      sid,
      'idempotent',
    );
    const rack = await api.services.racks.register({
      name: 'rack-local',
      version: 'test',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:03:01', addresses: [] }],
    });
    assert.deepEqual(await annotations(sid), {
      controller: 'rack+region',
      region_name: 'region-host',
      rack_system_id: rack.systemId,
    });
    assert.deepEqual(await byHostname('rack-local'), []);

    // Removing the rack leaves the region's machine, still locked.
    assert.equal((await api.call('DELETE', `${API}/rackcontrollers/${rack.systemId}/`, { key: admin })).status, 204);
    assert.deepEqual(await annotations(sid), { controller: 'region', region_name: 'region-host' });
    assert.equal((await byHostname('region-host'))[0]!.locked, true);
  });

  it('DELETE rackcontrollers/{id}/: admin only; the machine without a BMC is deleted, served machines move to another rack', async () => {
    const gone = await api.services.racks.register({
      name: 'rack-gone',
      version: 'test',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:04:01', addresses: [] }],
    });
    const stays = await api.services.racks.register({ name: 'rack-stays', version: 'test', interfaces: [] });
    const servedId = (
      await api.services.machines.create({
        hostname: 'served-1',
        macAddresses: [],
        powerParameters: {},
        deployed: true,
        ownerId: null,
      })
    ).systemId;
    await api.services.db.query(
      `UPDATE machines SET rack_id = (SELECT id FROM racks WHERE system_id = $1) WHERE system_id = $2`,
      [gone.systemId, servedId],
    );
    await api.services.db.query(`UPDATE racks SET last_seen = now() WHERE system_id = $1`, [stays.systemId]);

    assert.equal((await api.call('DELETE', `${API}/rackcontrollers/${gone.systemId}/`, { key: alice })).status, 403);
    assert.equal((await api.call('DELETE', `${API}/rackcontrollers/${gone.systemId}/`, { key: admin })).status, 204);
    assert.equal((await api.call('GET', `${API}/rackcontrollers/${gone.systemId}/`, { key: admin })).status, 404);
    assert.equal((await api.call('DELETE', `${API}/rackcontrollers/${gone.systemId}/`, { key: admin })).status, 404);
    assert.deepEqual(await byHostname('rack-gone'), [], 'no BMC: deleted');
    const rows = (await api.services.db.query(
      `SELECT r.system_id FROM machines m JOIN racks r ON r.id = m.rack_id WHERE m.system_id = $1`,
      [servedId],
    )) as Array<{ system_id: string }>;
    assert.equal(rows[0]?.system_id, stays.systemId, 're-pointed to the remaining rack');
  });

  it('a removed rack whose machine has a BMC: the machine stays, unlocked, DEPLOYED, without the annotation', async () => {
    const rack = await api.services.racks.register({
      name: 'rack-bmc',
      version: 'test',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:05:01', addresses: [] }],
    });
    const [m] = await byHostname('rack-bmc');
    const systemId = m!.system_id as string;
    await api.services.db.query(`UPDATE machines SET power_type = 'ipmi' WHERE system_id = $1`, [systemId]);
    assert.equal((await api.call('DELETE', `${API}/rackcontrollers/${rack.systemId}/`, { key: admin })).status, 204);
    const after = (await byHostname('rack-bmc'))[0]!;
    assert.equal(after.locked, false);
    assert.equal(after.status_name, 'Deployed');
    assert.deepEqual(await annotations(systemId), {});
  });

  it('regioncontrollers/: listed with MAAS node types; DELETE (admin only) drops the region role: kept as a rack when it is one, else deleted without a BMC', async () => {
    const alone = await api.services.controllers.ensureMachine({
      role: 'region',
      id: 'region-b',
      hostname: 'region-b',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:06:01' }],
    });
    const both = await api.services.controllers.ensureMachine({
      role: 'region',
      id: 'region-c',
      hostname: 'region-c',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:06:02' }],
    });
    const rack = await api.services.racks.register({
      name: 'rack-c',
      version: 'test',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:06:02', addresses: [] }],
    });
    const list = (await api.call('GET', `${API}/regioncontrollers/`, { key: alice })).body as Json[];
    const of = (id: string) => list.find((r) => r.system_id === id);
    assert.equal(of(alone)?.node_type, 3);
    assert.equal(of(both)?.node_type, 4, 'region and rack controller');
    assert.equal((await api.call('GET', `${API}/regioncontrollers/${alone}/`, { key: alice })).status, 200);

    assert.equal((await api.call('DELETE', `${API}/regioncontrollers/${alone}/`, { key: alice })).status, 403);
    assert.equal((await api.call('DELETE', `${API}/regioncontrollers/${alone}/`, { key: admin })).status, 204);
    assert.equal((await api.call('GET', `${API}/regioncontrollers/${alone}/`, { key: admin })).status, 404);
    assert.deepEqual(await byHostname('region-b'), [], 'no BMC: deleted');
    assert.equal((await api.call('DELETE', `${API}/regioncontrollers/${alone}/`, { key: admin })).status, 404);

    assert.equal((await api.call('DELETE', `${API}/regioncontrollers/${both}/`, { key: admin })).status, 204);
    assert.deepEqual(
      await annotations(both),
      { controller: 'rack', rack_system_id: rack.systemId },
      'still the rack, still locked',
    );
    assert.equal((await byHostname('region-c'))[0]!.locked, true);
    const machine = (await machines()).find((m) => m.system_id === alone);
    assert.equal(machine, undefined);
    assert.equal(
      (await api.call('DELETE', `${API}/regioncontrollers/${both}/`, { key: admin })).status,
      404,
      'a rack-only machine is no region controller',
    );
  });
});
