// MAAS API: a machine's interfaces under nodes/{system_id}/interfaces/ in MAAS's network model
// (bonds, VLAN interfaces, links, state and permission rules, restore), over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { machineResources } from '../../src/api/resources/machines';
import { nodeInterfaceResources } from '../../src/api/resources/node-interfaces';
import { MachineEntity } from '../../src/region/db/entities';
import { applyHardwareReport } from '../../src/region/services/hardware';
import { machineInput, macAddress } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

describe('MAAS API: machine interfaces', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: { id: number; key: string };
  let subnetId: number;
  let vlanId: number;

  before(async () => {
    api = await startResourceApi((services) => [
      ...machineResources(services, { temporalUiUrl: null, temporalNamespace: 'default' }),
      ...nodeInterfaceResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = await api.user('alice');
    const subnet = await api.services.subnets.create({ cidr: '10.40.0.0/24', gatewayIp: '10.40.0.1' });
    subnetId = subnet.id;
    vlanId = subnet.vlanId;
    await api.services.ipRanges.create({ type: 'dynamic', startIp: '10.40.0.100', endIp: '10.40.0.150' }, alice.id);
  });
  after(async () => api?.close());

  const readyMachine = async (macs: string[]) => {
    const m = await api.services.machines.create(machineInput({ macAddresses: macs }));
    await api.services.db.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [m.systemId, S.READY]);
    const ifaces: Array<{ id: number }> = await api.services.db.query(
      `SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1 ORDER BY i.id`,
      [m.systemId],
    );
    await api.services.db.query(`UPDATE interfaces SET vlan_id = $2 WHERE id = ANY($1::int[])`, [
      ifaces.map((i) => i.id),
      vlanId,
    ]);
    return { systemId: m.systemId, ids: ifaces.map((i) => i.id) };
  };
  const post = (key: string, path: string, op: string, form: Record<string, string | string[]> = {}) =>
    api.call('POST', `${API}/nodes/${path}?op=${op}`, { key, form });

  it('creates a bond of physical NICs with MAAS params, links it STATIC, and refuses bad parents', async () => {
    const { systemId, ids } = await readyMachine([macAddress(), macAddress()]);
    const forbidden = await post(alice.key, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: ids.map(String),
    });
    assert.ok([403, 404].includes(forbidden.status), forbidden.text);
    const noName = await post(admin, `${systemId}/interfaces/`, 'create_bond', { parents: ids.map(String) });
    assert.equal(noName.status, 400, noName.text);
    const badMode = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: ids.map(String),
      bond_mode: 'nope',
    });
    assert.equal(badMode.status, 400);
    assert.match(badMode.text, /bond_mode/);
    const r = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: ids.map(String),
      bond_mode: '802.3ad',
      bond_lacp_rate: 'fast',
    });
    assert.equal(r.status, 200, r.text);
    const bond = r.body as Json;
    assert.equal(bond.type, 'bond');
    assert.deepEqual((bond.params as Json).bond_mode, '802.3ad');
    assert.equal((bond.params as Json).bond_miimon, 100);
    assert.equal((bond.vlan as Json).id, vlanId);
    assert.equal((bond.parents as string[]).length, 2);
    const again = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond1',
      parents: [String(ids[0])],
    });
    assert.equal(again.status, 400, 'a bond member cannot join a second bond');
    const dup = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: [String(ids[0])],
    });
    assert.equal(dup.status, 400);

    const outside = await post(admin, `${systemId}/interfaces/${bond.id}/`, 'link_subnet', {
      mode: 'STATIC',
      subnet: String(subnetId),
      ip_address: '10.41.0.5',
    });
    assert.equal(outside.status, 400, outside.text);
    const inRange = await post(admin, `${systemId}/interfaces/${bond.id}/`, 'link_subnet', {
      mode: 'STATIC',
      subnet: String(subnetId),
      ip_address: '10.40.0.120',
    });
    assert.equal(inRange.status, 400, inRange.text);
    const linked = await post(admin, `${systemId}/interfaces/${bond.id}/`, 'link_subnet', {
      mode: 'STATIC',
      subnet: String(subnetId),
      ip_address: '10.40.0.5',
      default_gateway: 'true',
    });
    assert.equal(linked.status, 200, linked.text);
    const link = ((linked.body as Json).links as Json[]).find((l) => l.mode === 'static')!;
    assert.equal(link.ip_address, '10.40.0.5');
    const member = await post(admin, `${systemId}/interfaces/${ids[0]}/`, 'link_subnet', {
      mode: 'DHCP',
      subnet: String(subnetId),
    });
    assert.equal(member.status, 400, 'a bond member is not linked');

    const other = await readyMachine([macAddress()]);
    const taken = await post(admin, `${other.systemId}/interfaces/${other.ids[0]}/`, 'link_subnet', {
      mode: 'STATIC',
      subnet: String(subnetId),
      ip_address: '10.40.0.5',
    });
    assert.equal(taken.status, 409, taken.text);
    const auto = await post(admin, `${other.systemId}/interfaces/${other.ids[0]}/`, 'link_subnet', {
      mode: 'AUTO',
      subnet: String(subnetId),
    });
    assert.equal(auto.status, 200, auto.text);
    const autoLink = ((auto.body as Json).links as Json[])[0]!;
    assert.equal(autoLink.mode, 'auto');
    assert.equal('ip_address' in autoLink, false, 'AUTO has no address until deploy');

    const unlinked = await post(admin, `${systemId}/interfaces/${bond.id}/`, 'unlink_subnet', { id: String(link.id) });
    assert.equal(unlinked.status, 200, unlinked.text);
    assert.deepEqual(
      ((unlinked.body as Json).links as Json[]).map((l) => l.mode),
      ['link_up'],
    );
  });

  it('refuses edits in a state MAAS refuses (409), a foreign VLAN (400) and an unknown interface (404)', async () => {
    const { systemId, ids } = await readyMachine([macAddress()]);
    const untagged = await post(admin, `${systemId}/interfaces/`, 'create_vlan', {
      parent: String(ids[0]),
      vlan: String(vlanId),
    });
    assert.equal(untagged.status, 400, untagged.text);
    assert.match(untagged.text, /tagged VLAN/);
    const missing = await post(admin, `${systemId}/interfaces/999999/`, 'disconnect');
    assert.equal(missing.status, 404);
    await api.services.db.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [systemId, S.DEPLOYED]);
    const deployed = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: [String(ids[0])],
    });
    assert.equal(deployed.status, 409, deployed.text);
    const mtu = await api.call('PUT', `${API}/nodes/${systemId}/interfaces/${ids[0]}/`, {
      key: admin,
      form: { mtu: '9000' },
    });
    assert.equal(mtu.status, 409, mtu.text);
    const rename = await api.call('PUT', `${API}/nodes/${systemId}/interfaces/${ids[0]}/`, {
      key: admin,
      form: { name: 'eno1' },
    });
    assert.equal(rename.status, 200, rename.text);
    assert.equal((rename.body as Json).name, 'eno1');
  });

  it('commissioning: carrier and speed per NIC, the boot NIC AUTO on the subnet it booted from, other connected NICs LINK_UP; restore returns to exactly that', async () => {
    const [bootMac, upMac, downMac] = [macAddress(), macAddress(), macAddress()];
    const { systemId, ids } = await readyMachine([bootMac, upMac, downMac]);
    await api.services.db.query(`UPDATE interfaces SET vlan_id = NULL, is_boot = (id = $1) WHERE id = ANY($2::int[])`, [
      ids[0],
      ids,
    ]);
    await api.services.db.query(`INSERT INTO dhcp_leases (ip, mac_address, subnet_id) VALUES ('10.40.0.101', $1, $2)`, [
      bootMac,
      subnetId,
    ]);
    await api.services.db.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [systemId, S.COMMISSIONING]);
    const entity = await api.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId });
    await api.services.db.transaction((tx) =>
      applyHardwareReport(tx, entity, {
        cpu: { count: 2, model: 'Test CPU', speed_mhz: 2400 },
        memory_mib: 4096,
        dmi: {},
        block_devices: [],
        interfaces: [
          { name: 'eth0', mac: bootMac, link_speed_mbps: 1000, link_connected: true },
          { name: 'eth1', mac: upMac, link_speed_mbps: 10000 },
          { name: 'eth2', mac: downMac, link_speed_mbps: 0, link_connected: false },
        ],
      }),
    );
    await api.services.db.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [systemId, S.READY]);
    const read = async () =>
      (await api.call('GET', `${API}/nodes/${systemId}/interfaces/`, { key: admin })).body as Json[];
    const shape = (ifaces: Json[]) =>
      ifaces.map((i) => ({
        name: i.name,
        type: i.type,
        link_connected: i.link_connected,
        link_speed: i.link_speed,
        interface_speed: i.interface_speed,
        vlan: (i.vlan as Json | null)?.id ?? null,
        links: (i.links as Json[]).map((l) => [
          l.mode,
          (l.subnet as Json | undefined)?.id ?? null,
          l.ip_address ?? null,
        ]),
      }));
    const commissioned = shape(await read());
    assert.deepEqual(commissioned, [
      {
        name: 'eth0',
        type: 'physical',
        link_connected: true,
        link_speed: 1000,
        interface_speed: 1000,
        vlan: vlanId,
        links: [['auto', subnetId, null]],
      },
      {
        name: 'eth1',
        type: 'physical',
        link_connected: true,
        link_speed: 10000,
        interface_speed: 10000,
        vlan: null,
        links: [['link_up', null, null]],
      },
      {
        name: 'eth2',
        type: 'physical',
        link_connected: false,
        link_speed: 0,
        interface_speed: 0,
        vlan: null,
        links: [],
      },
    ]);

    const bond = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: [String(ids[1])],
    });
    assert.equal(bond.status, 200, bond.text);
    const tagged = await post(admin, `${systemId}/interfaces/${ids[0]}/`, 'add_tag', { tag: 'uplink' });
    assert.deepEqual((tagged.body as Json).tags, ['uplink']);
    // One tag at a time: a comma is refused, not cut to its first part.
    const two = await post(admin, `${systemId}/interfaces/${ids[0]}/`, 'add_tag', { tag: 'a,b' });
    assert.equal(two.status, 400, two.text);
    assert.match(two.text, /no commas/);
    // Its owner sees it, and still may not restore it (MAAS: NodePermission.admin).
    await api.services.db.query(`UPDATE machines SET owner_id = $2 WHERE system_id = $1`, [systemId, alice.id]);
    const ownerTry = await api.call('POST', `${API}/machines/${systemId}/?op=restore_networking_configuration`, {
      key: alice.key,
    });
    assert.equal(ownerTry.status, 403, ownerTry.text);
    const r = await api.call('POST', `${API}/machines/${systemId}/?op=restore_networking_configuration`, {
      key: admin,
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(shape(await read()), commissioned);
    assert.deepEqual(
      (await read()).map((i) => i.tags),
      [[], [], []],
    );

    await api.services.db.query(`UPDATE machines SET status = $2 WHERE system_id = $1`, [systemId, S.ALLOCATED]);
    const wrongState = await api.call('POST', `${API}/machines/${systemId}/?op=restore_networking_configuration`, {
      key: admin,
    });
    assert.equal(wrongState.status, 409, wrongState.text);
  });
  it('release keeps the bonds users configured and drops the ones the workload reported', async () => {
    const { systemId, ids } = await readyMachine([macAddress(), macAddress()]);
    const bond = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: ids.map(String),
    });
    assert.equal(bond.status, 200, bond.text);
    await api.services.db.query(
      `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot)
       SELECT machine_id, 'br-workload', 'bridge', mac_address, true, 0, false FROM interfaces WHERE id = $1`,
      [ids[0]],
    );
    await api.services.release.clearDeployment(systemId);
    const left = (await api.call('GET', `${API}/nodes/${systemId}/interfaces/`, { key: admin })).body as Json[];
    assert.ok(
      left.some((i) => i.name === 'bond0'),
      JSON.stringify(left.map((i) => i.name)),
    );
    assert.ok(!left.some((i) => i.name === 'br-workload'), JSON.stringify(left.map((i) => i.name)));
  });
});
