// nodes/ and nodes/{system_id}/ (MAAS's NodesHandler / NodeHandler) over real HTTP and PostgreSQL:
// machines and controllers' hosts in MAAS's node JSON, machines read's filters, read and delete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;

describe('MAAS API: nodes', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const mac = macAddress();

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

  const create = async (hostname: string, address = macAddress()) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: address,
        power_type: 'manual',
        commission: 'false',
      },
    });
    assert.equal(r.status, 200, r.text);
    return (r.body as Json).system_id as string;
  };

  it('lists machines and controllers with their node_type, filtered as machines read is', async () => {
    const machine = await create('node-machine', mac);
    const rackHost = await create('node-rack');
    await region.services.db.query(
      `UPDATE machines SET workload_annotations = '{"controller": "rack"}', locked = true WHERE system_id = $1`,
      [rackHost],
    );
    const r = await api.call('GET', '/MAAS/api/2.0/nodes/', { key: admin });
    assert.equal(r.status, 200, r.text);
    const byId = new Map((r.body as Json[]).map((n) => [n.system_id as string, n]));
    assert.equal(byId.get(machine)!.node_type, 0);
    assert.equal(byId.get(machine)!.node_type_name, 'Machine');
    assert.equal(byId.get(rackHost)!.node_type, 2);
    assert.equal(byId.get(rackHost)!.node_type_name, 'Rack controller');
    for (const key of ['hostname', 'fqdn', 'domain', 'zone', 'pool', 'tag_names', 'interface_set', 'resource_uri'])
      assert.ok(key in byId.get(machine)!, key);

    const filtered = await api.call('GET', '/MAAS/api/2.0/nodes/?hostname=node-rack', { key: admin });
    assert.deepEqual(
      (filtered.body as Json[]).map((n) => n.system_id),
      [rackHost],
    );
    const bad = await api.call('GET', '/MAAS/api/2.0/nodes/?zone=nowhere', { key: admin });
    assert.equal(bad.status, 400, bad.text);

    const anon = await api.call('GET', `/MAAS/api/2.0/nodes/?op=is_registered&mac_address=${mac}`, { key: null });
    assert.equal(anon.status, 200, anon.text);
    assert.equal(anon.body, true);
  });

  it('reads and deletes one node as MAAS: 404 when hidden or gone, admins delete, a locked controller host is a 409', async () => {
    const id = await create('node-one');
    const read = await api.call('GET', `/MAAS/api/2.0/nodes/${id}/`, { key: admin });
    assert.equal(read.status, 200, read.text);
    assert.equal((read.body as Json).hostname, 'node-one');
    assert.equal((await api.call('DELETE', `/MAAS/api/2.0/nodes/${id}/`, { key: alice })).status, 403);
    const del = await api.call('DELETE', `/MAAS/api/2.0/nodes/${id}/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.equal((await api.call('GET', `/MAAS/api/2.0/nodes/${id}/`, { key: admin })).status, 404);

    const host = await create('node-locked');
    await region.services.db.query(
      `UPDATE machines SET workload_annotations = '{"controller": "region"}', locked = true WHERE system_id = $1`,
      [host],
    );
    assert.equal((await api.call('DELETE', `/MAAS/api/2.0/nodes/${host}/`, { key: admin })).status, 409);
    assert.equal(((await api.call('GET', `/MAAS/api/2.0/nodes/${host}/`, { key: admin })).body as Json).node_type, 3);
  });

  it('set_zone on nodes/ (admins)', async () => {
    await api.call('POST', '/MAAS/api/2.0/zones/', { key: admin, form: { name: 'node-zone' } });
    const id = await create('node-zoned');
    const r = await api.call('POST', '/MAAS/api/2.0/nodes/?op=set_zone', {
      key: admin,
      form: { zone: 'node-zone', nodes: id },
    });
    assert.equal(r.status, 204, r.text);
    const zone = ((await api.call('GET', `/MAAS/api/2.0/nodes/${id}/`, { key: admin })).body as Json).zone as Json;
    assert.equal(zone.name, 'node-zone');
  });
});
