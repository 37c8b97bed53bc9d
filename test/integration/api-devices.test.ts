// MAAS API: devices/ and nodes/{system_id}/interfaces/ as Juju's gomaasapi drives them for
// containers, over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceResources } from '../../src/api/resources/devices';
import { nodeInterfaceResources } from '../../src/api/resources/node-interfaces';
import { deployedMachineInput, machineInput, macAddress } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const DEVICES = `${API}/devices/`;

describe('MAAS API: devices', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: { id: number; key: string };
  let bob: { id: number; key: string };
  let subnetId: number;
  let vlanId: number;

  before(async () => {
    api = await startResourceApi((services) => [
      ...deviceResources({ services }),
      ...nodeInterfaceResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = await api.user('alice');
    bob = await api.user('bob');
    const subnet = await api.services.subnets.create({ cidr: '10.30.0.0/24', gatewayIp: '10.30.0.1' });
    subnetId = subnet.id;
    vlanId = subnet.vlanId;
    // .2-.9 reserved, .10-.19 the DHCP pool, .20 reserved for a MAC: the pick must skip all of them.
    await api.services.ipRanges.create({ type: 'reserved', startIp: '10.30.0.2', endIp: '10.30.0.9' }, alice.id);
    await api.services.ipRanges.create({ type: 'dynamic', startIp: '10.30.0.10', endIp: '10.30.0.19' }, alice.id);
    await api.services.reservedIps.reserve({ ip: '10.30.0.20' }, alice.id, true);
  });
  after(async () => api?.close());

  const machineOf = async (hostname: string, ownerId: number | null) =>
    (await api.services.machines.create(deployedMachineInput(hostname, ownerId))).systemId;
  const createDevice = async (key: string, form: Record<string, string | string[]>) => {
    const r = await api.call('POST', DEVICES, { key, form });
    assert.equal(r.status, 200, r.text);
    return r.body as Json;
  };
  const ifaceUri = (d: Json) => ((d.interface_set as Json[])[0]!.resource_uri as string).replace('/MAAS', '/MAAS');

  it("creates a container device on the caller's machine in MAAS's shape, as gomaasapi reads it", async () => {
    const parent = await machineOf('host-a', alice.id);
    const mac = macAddress();
    const d = await createDevice(alice.key, { hostname: 'juju-c1', mac_addresses: mac, parent });
    assert.equal(d.hostname, 'juju-c1');
    assert.equal(d.fqdn, 'juju-c1.maas');
    assert.equal(d.parent, parent);
    assert.equal(d.owner, 'alice');
    assert.equal(d.node_type_name, 'Device');
    assert.equal(d.node_type, 1);
    assert.equal(d.pool, null);
    assert.equal((d.zone as Json).name, 'default');
    assert.equal((d.domain as Json).name, 'maas');
    assert.deepEqual(d.ip_addresses, []);
    assert.equal(d.resource_uri, `${DEVICES}${d.system_id as string}/`);
    const [iface] = d.interface_set as Json[];
    for (const key of ['id', 'name', 'type', 'enabled', 'tags', 'vlan', 'links', 'mac_address', 'effective_mtu'])
      assert.ok(key in iface!, `interface has ${key}`);
    assert.deepEqual([iface!.name, iface!.mac_address, iface!.parents, iface!.children], ['eth0', mac, [], []]);
    assert.equal(iface!.resource_uri, `${API}/nodes/${d.system_id as string}/interfaces/${iface!.id as number}/`);
    assert.deepEqual((await api.call('GET', `${DEVICES}${d.system_id as string}/`, { key: alice.key })).body, d);
  });

  it('generates a hostname, and refuses bad input whole with a 400 naming the field', async () => {
    const d = await createDevice(alice.key, { mac_addresses: macAddress() });
    assert.match(d.hostname as string, /^[a-z]+-[a-z]+-[a-z0-9]{6}$/);
    assert.equal(d.parent, null);
    const before = (await api.services.db.query('SELECT count(*)::int AS n FROM devices')) as [{ n: number }];
    const refused = [
      [{}, 'mac_addresses'],
      [{ mac_addresses: 'nope' }, 'mac_addresses'],
      [{ mac_addresses: (d.interface_set as Json[])[0]!.mac_address as string }, 'mac_addresses'],
      [{ mac_addresses: macAddress(), hostname: d.hostname as string }, 'hostname'],
      [{ mac_addresses: macAddress(), hostname: 'bad_name' }, 'hostname'],
      [{ mac_addresses: macAddress(), zone: 'nowhere' }, 'zone'],
      [{ mac_addresses: macAddress(), parent: 'zzzzzz' }, 'parent'],
    ] as const;
    for (const [form, name] of refused) {
      const r = await api.call('POST', DEVICES, { key: alice.key, form: form as Record<string, string> });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.ok(name in (r.body as Json), `${JSON.stringify(form)} names ${name}: ${r.text}`);
    }
    const after = (await api.services.db.query('SELECT count(*)::int AS n FROM devices')) as [{ n: number }];
    assert.equal(after[0].n, before[0].n);
  });

  it("a device's parent must be a machine the caller holds; it follows the parent's owner", async () => {
    const bobs = await machineOf('host-bob', bob.id);
    const r = await api.call('POST', DEVICES, { key: alice.key, form: { mac_addresses: macAddress(), parent: bobs } });
    assert.equal(r.status, 400, r.text);
    assert.match(JSON.stringify(r.body), /parent/);
    // An admin puts a device on bob's machine: bob owns it, alice neither sees nor changes it.
    const d = await createDevice(admin, { mac_addresses: macAddress(), parent: bobs });
    assert.equal(d.owner, 'bob');
    const uri = `${DEVICES}${d.system_id as string}/`;
    assert.equal((await api.call('GET', uri, { key: alice.key })).status, 404);
    assert.equal((await api.call('DELETE', uri, { key: alice.key })).status, 404);
    const listed = (await api.call('GET', DEVICES, { key: alice.key })).body as Json[];
    assert.ok(!listed.some((x) => x.system_id === d.system_id));
    assert.equal((await api.call('GET', uri, { key: bob.key })).status, 200);
    const upd = await api.call('PUT', uri, { key: bob.key, form: { hostname: 'bob-c1', description: 'x' } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal((upd.body as Json).hostname, 'bob-c1');
  });

  it("an unowned device's changes are its owner's: others get a 403", async () => {
    const d = await createDevice(alice.key, { mac_addresses: macAddress() });
    const uri = `${DEVICES}${d.system_id as string}/`;
    // A device without parent and owner (its creator was deleted) is seen by all, changed by admins.
    await api.services.db.query('UPDATE devices SET owner_id = NULL WHERE system_id = $1', [d.system_id]);
    assert.equal((await api.call('GET', uri, { key: bob.key })).status, 200);
    const r = await api.call('PUT', uri, { key: bob.key, form: { description: 'mine now' } });
    assert.equal(r.status, 403, r.text);
    assert.equal((await api.call('PUT', uri, { key: admin, form: { description: 'ok' } })).status, 200);
  });

  it("lists with MAAS's filters", async () => {
    const mac = macAddress();
    // A device's domain must exist (migration 0015), as a machine's does.
    await api.services.domains.create({ name: 'lab.example' });
    const d = await createDevice(alice.key, { hostname: 'filtered-1', mac_addresses: mac, domain: 'lab.example' });
    const ids = async (query: string) =>
      ((await api.call('GET', `${DEVICES}?${query}`, { key: alice.key })).body as Json[]).map((x) => x.system_id);
    assert.deepEqual(await ids('hostname=filtered-1'), [d.system_id]);
    assert.deepEqual(await ids(`mac_address=${mac.toUpperCase()}`), [d.system_id]);
    assert.deepEqual(await ids(`id=${d.system_id as string}`), [d.system_id]);
    assert.deepEqual(await ids('domain=lab.example'), [d.system_id]);
    assert.deepEqual(await ids('hostname=filtered-1&zone=default'), [d.system_id]);
    assert.deepEqual(await ids('hostname=filtered-1&zone=other'), []);
    assert.deepEqual(await ids('hostname=filtered-1&pool=default'), []);
    assert.deepEqual(await ids('hostname=filtered-1&agent_name=juju'), []);
    const bad = await api.call('GET', `${DEVICES}?mac_address=xx`, { key: alice.key });
    assert.equal(bad.status, 400, bad.text);
  });

  it('sets owner data and workload annotations', async () => {
    const d = await createDevice(alice.key, { mac_addresses: macAddress() });
    const uri = `${DEVICES}${d.system_id as string}/`;
    const r = await api.call('POST', `${uri}?op=set_owner_data`, { key: alice.key, form: { 'juju-model': 'm1' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.body as Json).owner_data, { 'juju-model': 'm1' });
    const w = await api.call('POST', `${uri}?op=set_workload_annotations`, {
      key: alice.key,
      form: { 'juju-model': '', unit: 'u/0' },
    });
    assert.deepEqual((w.body as Json).workload_annotations, { unit: 'u/0' });
    assert.equal((await api.call('POST', `${uri}?op=set_owner_data`, { key: bob.key, form: { a: 'b' } })).status, 404);
  });

  it('links interfaces: STATIC picks the lowest free address, never the gateway, a range or a reserved IP', async () => {
    const d = await createDevice(alice.key, { mac_addresses: macAddress() });
    const [iface] = d.interface_set as Json[];
    const uri = ifaceUri(d);
    const link = (form: Record<string, string>, key = alice.key) =>
      api.call('POST', `${uri}?op=link_subnet`, { key, form });
    const r = await link({ mode: 'STATIC', subnet: String(subnetId) });
    assert.equal(r.status, 200, r.text);
    const linked = r.body as Json;
    const [l] = linked.links as Json[];
    assert.equal(l!.mode, 'static');
    assert.equal(l!.ip_address, '10.30.0.21');
    assert.equal((l!.subnet as Json).cidr as string, '10.30.0.0/24');
    for (const key of ['space', 'gateway_ip', 'dns_servers', 'vlan', 'resource_uri'])
      assert.ok(key in (l!.subnet as Json), `subnet has ${key}`);
    assert.equal((linked.vlan as Json).id, vlanId);
    assert.equal(linked.id, iface!.id);
    const dev = (await api.call('GET', `${DEVICES}${d.system_id as string}/`, { key: alice.key })).body as Json;
    assert.deepEqual(dev.ip_addresses, ['10.30.0.21']);

    const second = await createDevice(alice.key, { mac_addresses: macAddress() });
    const uri2 = ifaceUri(second);
    const link2 = (form: Record<string, string>) =>
      api.call('POST', `${uri2}?op=link_subnet`, { key: alice.key, form });
    for (const ip of ['10.30.0.1', '10.30.0.5', '10.30.0.15', '10.30.0.0', '10.30.0.255', '10.99.0.1']) {
      const bad = await link2({ mode: 'STATIC', subnet: String(subnetId), ip_address: ip });
      assert.equal(bad.status, 400, `${ip}: ${bad.text}`);
    }
    for (const ip of ['10.30.0.20', '10.30.0.21']) {
      const taken = await link2({ mode: 'STATIC', subnet: String(subnetId), ip_address: ip });
      assert.equal(taken.status, 409, `${ip}: ${taken.text}`);
    }
    const ok = await link2({ mode: 'STATIC', subnet: String(subnetId), ip_address: '10.30.0.200' });
    assert.equal(ok.status, 200, ok.text);
    // Reserving an address a device holds is refused too.
    const reserve = api.services.reservedIps.reserve({ ip: '10.30.0.200' }, alice.id, true);
    await assert.rejects(reserve, /already in use/);

    assert.equal((await link2({ mode: 'AUTO', subnet: String(subnetId) })).status, 400);
    assert.equal((await link2({ mode: 'BOGUS', subnet: String(subnetId) })).status, 400);
    assert.equal((await link2({ mode: 'DHCP' })).status, 400);
    assert.equal((await link2({ mode: 'DHCP', subnet: String(subnetId), default_gateway: 'true' })).status, 400);
    assert.equal((await link({ mode: 'STATIC', subnet: String(subnetId) }, bob.key)).status, 404);
  });

  it('answers 409 when a subnet has no free address left, and picks IPv6 addresses too', async () => {
    const tiny = await api.services.subnets.create({ cidr: '10.31.0.0/30', gatewayIp: '10.31.0.1' });
    const link = async (subnet: number) => {
      const d = await createDevice(alice.key, { mac_addresses: macAddress() });
      return api.call('POST', `${ifaceUri(d)}?op=link_subnet`, {
        key: alice.key,
        form: { mode: 'STATIC', subnet: String(subnet) },
      });
    };
    const first = await link(tiny.id);
    assert.equal(first.status, 200, first.text);
    assert.equal(((first.body as Json).links as Json[])[0]!.ip_address, '10.31.0.2');
    const none = await link(tiny.id);
    assert.equal(none.status, 409, none.text);
    assert.match(none.text, /No free IP address/);

    const v6 = await api.services.subnets.create({ cidr: 'fd00:31::/64' });
    const r = await link(v6.id);
    assert.equal(r.status, 200, r.text);
    // Past MAAS's reserved ::1-::ffff:ffff of a /64, which the subnet's statistics count as in use.
    assert.equal(((r.body as Json).links as Json[])[0]!.ip_address, 'fd00:31::1:0:0');
    const free = await api.services.subnetUsage.unreservedRanges(String(v6.id));
    assert.equal(free.ranges[0]!.first, (0xfd000031n << 96n) + 0x100000001n, 'the next free address is the next pick');
  });

  it('picks distinct addresses for concurrent STATIC links', async () => {
    const devices = await Promise.all(
      Array.from({ length: 6 }, () => createDevice(alice.key, { mac_addresses: macAddress() })),
    );
    const replies = await Promise.all(
      devices.map((d) =>
        api.call('POST', `${ifaceUri(d)}?op=link_subnet`, {
          key: alice.key,
          form: { mode: 'STATIC', subnet: String(subnetId) },
        }),
      ),
    );
    const ips = replies.map((r) => {
      assert.equal(r.status, 200, r.text);
      return ((r.body as Json).links as Json[])[0]!.ip_address;
    });
    assert.equal(new Set(ips).size, ips.length);
  });

  it('DHCP and LINK_UP links, unlink frees the address, create_physical, update and delete', async () => {
    const d = await createDevice(alice.key, { mac_addresses: macAddress() });
    const sid = d.system_id as string;
    const nodeUri = `${API}/nodes/${sid}/interfaces/`;
    const created = await api.call('POST', `${nodeUri}?op=create_physical`, {
      key: alice.key,
      form: { mac_address: macAddress(), vlan: String(vlanId) },
    });
    assert.equal(created.status, 200, created.text);
    const eth1 = created.body as Json;
    assert.equal(eth1.name, 'eth1');
    assert.equal((eth1.vlan as Json).id, vlanId);
    const uri = eth1.resource_uri as string;

    const up = await api.call('POST', `${uri}?op=link_subnet`, { key: alice.key, form: { mode: 'LINK_UP' } });
    assert.equal(up.status, 200, up.text);
    assert.deepEqual(
      ((up.body as Json).links as Json[]).map((l) => l.mode),
      ['link_up'],
    );
    const dhcp = await api.call('POST', `${uri}?op=link_subnet`, {
      key: alice.key,
      form: { mode: 'DHCP', subnet: '10.30.0.0/24' },
    });
    assert.equal(dhcp.status, 200, dhcp.text);
    assert.deepEqual(
      ((dhcp.body as Json).links as Json[]).map((l) => l.mode),
      ['dhcp'],
    );
    const linkId = ((dhcp.body as Json).links as Json[])[0]!.id as number;
    const unlinked = await api.call('POST', `${uri}?op=unlink_subnet`, {
      key: alice.key,
      form: { id: String(linkId) },
    });
    assert.equal(unlinked.status, 200, unlinked.text);
    assert.deepEqual((unlinked.body as Json).links, []);
    assert.equal(
      (await api.call('POST', `${uri}?op=unlink_subnet`, { key: alice.key, form: { id: String(linkId) } })).status,
      400,
    );

    const renamed = await api.call('PUT', uri, { key: alice.key, form: { name: 'eth9' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((renamed.body as Json).name, 'eth9');
    const list = (await api.call('GET', nodeUri, { key: alice.key })).body as Json[];
    assert.deepEqual(
      list.map((i) => i.name),
      ['eth0', 'eth9'],
    );
    assert.equal((await api.call('DELETE', uri, { key: alice.key })).status, 204);
    assert.equal((await api.call('GET', uri, { key: alice.key })).status, 404);

    const dup = await api.call('POST', `${nodeUri}?op=create_physical`, {
      key: alice.key,
      form: { mac_address: (d.interface_set as Json[])[0]!.mac_address as string },
    });
    assert.equal(dup.status, 400, dup.text);
    const tags = await api.call('POST', `${nodeUri}?op=create_physical`, {
      key: alice.key,
      form: { mac_address: macAddress(), tags: 'a' },
    });
    assert.equal(tags.status, 400, tags.text);
  });

  it("serves a machine's interfaces, which its owner may not edit (MAAS: admins only)", async () => {
    const m = await api.services.machines.create(machineInput({ hostname: 'plain-machine', ownerId: alice.id }));
    const nodeUri = `${API}/nodes/${m.systemId}/interfaces/`;
    const list = await api.call('GET', nodeUri, { key: admin });
    assert.equal(list.status, 200, list.text);
    const [iface] = list.body as Json[];
    assert.equal((await api.call('GET', iface!.resource_uri as string, { key: admin })).status, 200);
    const r = await api.call('POST', `${nodeUri}?op=create_physical`, {
      key: alice.key,
      form: { mac_address: macAddress() },
    });
    assert.equal(r.status, 403, r.text);
    assert.equal((await api.call('GET', `${API}/nodes/nonode/interfaces/`, { key: admin })).status, 404);
  });

  it("a machine's release and delete take its devices and their addresses with them", async () => {
    const parent = await machineOf('host-release', alice.id);
    const d = await createDevice(alice.key, { mac_addresses: macAddress(), parent });
    const linked = await api.call('POST', `${ifaceUri(d)}?op=link_subnet`, {
      key: alice.key,
      form: { mode: 'STATIC', subnet: String(subnetId), ip_address: '10.30.0.150' },
    });
    assert.equal(linked.status, 200, linked.text);
    await api.services.release.clearDeployment(parent);
    assert.equal((await api.call('GET', `${DEVICES}${d.system_id as string}/`, { key: admin })).status, 404);
    const held: unknown[] = await api.services.db.query(`SELECT 1 FROM device_links WHERE host(ip) = '10.30.0.150'`);
    assert.equal(held.length, 0);

    const other = await machineOf('host-delete', alice.id);
    const d2 = await createDevice(alice.key, { mac_addresses: macAddress(), parent: other });
    await api.services.machines.delete(other);
    assert.equal((await api.call('GET', `${DEVICES}${d2.system_id as string}/`, { key: admin })).status, 404);
  });

  it('deletes a device (204), then it is gone', async () => {
    const d = await createDevice(alice.key, { mac_addresses: macAddress() });
    const uri = `${DEVICES}${d.system_id as string}/`;
    assert.equal((await api.call('DELETE', uri, { key: bob.key })).status, 404);
    assert.equal((await api.call('DELETE', uri, { key: alice.key })).status, 204);
    assert.equal((await api.call('GET', uri, { key: alice.key })).status, 404);
  });
});
