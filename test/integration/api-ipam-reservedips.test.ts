// IPAM: MAAS 3.6's reservedips/ and reservedips/{id}/ over real HTTP on PostgreSQL: MAAS's shape
// and validation, the owner rules, a machine's link keeping its address, and the rack's DHCP
// serving the MAC its fixed address until the reservation is deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fabricResources } from '../../src/api/resources/fabrics';
import { reservedIpResources } from '../../src/api/resources/reserved-ips';
import { machineInput, macAddress } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const RESERVED = `${API}/reservedips/`;

describe('MAAS API: reservedips (MAAS 3.6)', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  let bob: string;
  let rack: string;
  let subnetId: number;

  before(async () => {
    api = await startResourceApi((services) => [
      ...reservedIpResources({ services }),
      ...fabricResources({ services }),
    ]);
    const adminUser = await api.user('admin', true);
    admin = adminUser.key;
    alice = (await api.user('alice')).key;
    bob = (await api.user('bob')).key;
    rack = (
      await api.services.racks.register({
        name: 'rack-a',
        version: 'test',
        interfaces: [{ name: 'br0', mac: '02:00:00:00:00:01', addresses: ['10.66.0.1/24'] }],
      })
    ).systemId;
    const subnet = await api.services.subnets.get('10.66.0.0/24');
    subnetId = subnet.id;
    await api.services.ipRanges.create({ type: 'dynamic', startIp: '10.66.0.100', endIp: '10.66.0.150' }, adminUser.id);
    const vlan = await api.call('PUT', `${API}/vlans/${subnet.vlanId}/`, {
      key: admin,
      form: { dhcp_on: 'True', primary_rack: rack },
    });
    assert.equal(vlan.status, 200, vlan.text);
  });
  after(async () => api?.close());

  const create = (key: string, form: Record<string, string>) => api.call('POST', RESERVED, { key, form });

  it("creates in MAAS's shape, and the rack's DHCP serves the MAC its address until it is deleted", async () => {
    const r = await create(alice, { ip: '10.66.0.20', mac_address: '52-54-00-AA-00-01', comment: 'printer' });
    assert.equal(r.status, 200, r.text);
    const body = r.body as Json;
    assert.deepEqual(Object.keys(body).sort(), [
      'comment',
      'id',
      'ip',
      'mac_address',
      'resource_uri',
      'subnet',
      'vlan',
    ]);
    assert.equal(body.ip, '10.66.0.20');
    assert.equal(body.mac_address, '52:54:00:aa:00:01');
    assert.equal(body.comment, 'printer');
    assert.equal((body.subnet as Json).id, subnetId, 'the subnet is found from the address');
    assert.equal((body.vlan as Json).id, ((body.subnet as Json).vlan as Json).id);
    assert.equal(body.resource_uri, `${RESERVED}${body.id as number}/`);

    const fixed = async () => (await api.services.rackDhcp.config(rack)).subnets[0]!.fixed;
    assert.deepEqual(
      (await fixed()).map((f) => [f.mac, f.ip]),
      [['52:54:00:aa:00:01', '10.66.0.20']],
    );
    const read = await api.call('GET', body.resource_uri as string, { key: bob });
    assert.deepEqual(read.body, body);
    assert.ok(((await api.call('GET', RESERVED, { key: bob })).body as Json[]).some((x) => x.id === body.id));

    // Only the comment changes, and only for its owner or an admin.
    const byBob = await api.call('PUT', body.resource_uri as string, { key: bob, form: { comment: 'mine' } });
    assert.equal(byBob.status, 403, byBob.text);
    const moved = await api.call('PUT', body.resource_uri as string, { key: alice, form: { ip: '10.66.0.21' } });
    assert.equal(moved.status, 400, moved.text);
    assert.match(moved.text, /ip/);
    const updated = await api.call('PUT', body.resource_uri as string, { key: alice, form: { comment: 'laser' } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((updated.body as Json).comment, 'laser');

    assert.equal((await api.call('DELETE', body.resource_uri as string, { key: bob })).status, 403);
    assert.equal((await api.call('DELETE', body.resource_uri as string, { key: admin })).status, 204);
    assert.deepEqual(await fixed(), []);
    assert.equal((await api.call('GET', body.resource_uri as string, { key: alice })).status, 404);
  });

  it('refuses what MAAS refuses, writing nothing', async () => {
    const mac = () => macAddress();
    const cases: Array<[Record<string, string>, number, RegExp]> = [
      [{ mac_address: mac() }, 400, /ip/],
      [{ ip: '10.66.0.30' }, 400, /mac_address/],
      [{ ip: '10.66.0.30', mac_address: 'zz' }, 400, /MAC|mac/],
      [{ ip: 'not-an-ip', mac_address: mac() }, 400, /ip/],
      [{ ip: '10.99.9.9', mac_address: mac() }, 400, /subnet/i],
      [{ ip: '10.66.0.0', mac_address: mac() }, 400, /network/],
      [{ ip: '10.66.0.255', mac_address: mac() }, 400, /broadcast/],
      [{ ip: '10.66.0.120', mac_address: mac() }, 400, /dynamic range/],
      [{ ip: '10.66.1.5', subnet: String(subnetId), mac_address: mac() }, 400, /not within subnet/],
      [{ ip: '10.66.0.31', mac_address: mac(), comment: 'x'.repeat(256) }, 400, /comment/],
    ];
    for (const [form, status, why] of cases) {
      const r = await create(alice, form);
      assert.equal(r.status, status, `${JSON.stringify(form)}: ${r.text}`);
      assert.match(r.text, why);
    }
    // A machine's STATIC address is in use; a MAC gets one fixed address per subnet.
    const m = await api.services.machines.create(machineInput({ hostname: 'holder', macAddresses: [mac()] }));
    await api.services.db.query(
      `INSERT INTO interface_links (interface_id, mode, subnet_id, ip)
       SELECT i.id, 'static', $2, '10.66.0.40' FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [m.systemId, subnetId],
    );
    const taken = await create(admin, { ip: '10.66.0.40', mac_address: mac() });
    assert.equal(taken.status, 409, taken.text);
    const twice = mac();
    assert.equal((await create(admin, { ip: '10.66.0.41', mac_address: twice })).status, 200);
    assert.equal((await create(admin, { ip: '10.66.0.42', mac_address: twice })).status, 409);
    const rows: unknown[] = await api.services.db.query(`SELECT 1 FROM reserved_ips`);
    assert.equal(rows.length, 1, 'only the one valid reservation was written');
    assert.equal((await api.call('GET', `${RESERVED}99999/`, { key: alice })).status, 404);
  });
});
