// MAAS API: a machine's interfaces under nodes/{system_id}/interfaces/ in MAAS's network model
// (bonds, VLAN interfaces, links, state and permission rules, restore), over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { nodeInterfaceResources } from '../../src/api/resources/node-interfaces';
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
    api = await startResourceApi((services) => [...nodeInterfaceResources({ services })]);
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

  it('restore_networking_configuration removes bonds and gives the boot NIC its AUTO link back', async () => {
    const mac = macAddress();
    const { systemId, ids } = await readyMachine([mac, macAddress()]);
    await api.services.db.query(`UPDATE interfaces SET is_boot = (id = $1) WHERE id = ANY($2::int[])`, [ids[0], ids]);
    await api.services.db.query(`INSERT INTO dhcp_leases (ip, mac_address, subnet_id) VALUES ('10.40.0.101', $1, $2)`, [
      mac,
      subnetId,
    ]);
    const bond = await post(admin, `${systemId}/interfaces/`, 'create_bond', {
      name: 'bond0',
      parents: ids.map(String),
    });
    assert.equal(bond.status, 200, bond.text);
    await api.services.machineNetworkRestore
      .restore({ kind: 'user', user: { id: 0, isSuperuser: true } } as never, systemId, 'networking')
      .catch(async () => {
        const r = await post(admin, `machines/${systemId}/`, 'restore_networking_configuration');
        assert.equal(r.status, 200, r.text);
      });
    const list = await api.call('GET', `${API}/nodes/${systemId}/interfaces/`, { key: admin });
    const ifaces = list.body as Json[];
    assert.deepEqual(
      ifaces.map((i) => i.type),
      ['physical', 'physical'],
    );
    assert.deepEqual(((ifaces[0]!.links as Json[])[0] as Json).mode, 'auto');
    assert.deepEqual((((ifaces[0]!.links as Json[])[0] as Json).subnet as Json).id, subnetId);
    assert.deepEqual(((ifaces[1]!.links as Json[])[0] as Json).mode, 'link_up');
  });
});
