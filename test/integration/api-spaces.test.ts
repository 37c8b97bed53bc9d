// MAAS API: spaces/ over real HTTP on PostgreSQL: CRUD, VLANs joining a space through the VLAN
// handlers' `space=`, subnets reporting their VLAN's space, and the "undefined" pseudo-space.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fabricResources } from '../../src/api/resources/fabrics';
import { spaceResources } from '../../src/api/resources/spaces';
import { subnetResources } from '../../src/api/resources/subnets';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const SPACES = `${API}/spaces/`;

describe('MAAS API: spaces', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  const spaceNames = async () =>
    ((await api.services.db.query('SELECT name FROM spaces ORDER BY id')) as Array<{ name: string }>).map(
      (s) => s.name,
    );

  before(async () => {
    api = await startResourceApi((services) => [
      ...spaceResources({ services }),
      ...fabricResources({ services }),
      ...subnetResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
    const s = await api.call('POST', `${API}/subnets/`, { key: admin, form: { cidr: '10.50.0.0/24', name: 'net-50' } });
    assert.equal(s.status, 200, s.text);
  });
  after(async () => api?.close());

  it('lists only the undefined space (id -1) while every VLAN is in none, as MAAS does for Juju', async () => {
    const r = await api.call('GET', SPACES, { key: alice });
    assert.equal(r.status, 200, r.text);
    const spaces = r.body as Json[];
    assert.equal(spaces.length, 1);
    assert.equal(spaces[0]!.id, -1);
    assert.equal(spaces[0]!.name, 'undefined');
    assert.equal(spaces[0]!.resource_uri, `${SPACES}undefined/`);
    assert.deepEqual(
      (spaces[0]!.subnets as Json[]).map((s) => s.cidr),
      ['10.50.0.0/24'],
    );
    assert.equal((await api.call('GET', `${SPACES}-1/`, { key: alice })).status, 200);
    assert.equal((await api.call('GET', `${SPACES}undefined/`, { key: alice })).status, 200);
  });

  it('admins create a space, put a VLAN in it, and the space lists its VLANs and subnets', async () => {
    const c = await api.call('POST', SPACES, { key: admin, form: { name: 'dmz', description: 'the edge' } });
    assert.equal(c.status, 200, c.text);
    const space = c.body as Json;
    assert.deepEqual(Object.keys(space).sort(), ['description', 'id', 'name', 'resource_uri', 'subnets', 'vlans']);
    assert.equal(space.resource_uri, `${SPACES}${space.id}/`);
    assert.deepEqual(space.vlans, []);

    const v = await api.call('PUT', `${API}/fabrics/0/vlans/0/`, { key: admin, form: { space: 'dmz' } });
    assert.equal(v.status, 200, v.text);
    assert.equal((v.body as Json).space, 'dmz');
    const subnet = (await api.call('GET', `${API}/subnets/10.50.0.0%2F24/`, { key: alice })).body as Json;
    assert.equal(subnet.space, 'dmz', "a subnet reports its VLAN's space");
    assert.equal((subnet.vlan as Json).space, 'dmz');

    const read = (await api.call('GET', `${SPACES}${space.id}/`, { key: alice })).body as Json;
    assert.deepEqual(
      (read.vlans as Json[]).map((x) => x.vid),
      [0],
    );
    assert.deepEqual(
      (read.subnets as Json[]).map((x) => x.cidr),
      ['10.50.0.0/24'],
    );
    assert.deepEqual((await api.call('GET', `${SPACES}dmz/`, { key: alice })).body, read, 'by name too');
    // Every VLAN is now in a space: MAAS lists no undefined space then.
    const all = (await api.call('GET', SPACES, { key: alice })).body as Json[];
    assert.deepEqual(
      all.map((s) => s.name),
      ['dmz'],
    );

    const u = await api.call('PUT', `${SPACES}${space.id}/`, { key: admin, form: { name: 'edge' } });
    assert.equal(u.status, 200, u.text);
    assert.equal((u.body as Json).name, 'edge');
    assert.equal(
      ((await api.call('GET', `${API}/vlans/${(v.body as Json).id}/`, { key: alice })).body as Json).space,
      'edge',
    );

    // Clearing: space= empty (or "undefined") takes the VLAN out of its space.
    const cleared = await api.call('PUT', `${API}/vlans/${(v.body as Json).id}/`, { key: admin, form: { space: '' } });
    assert.equal((cleared.body as Json).space, 'undefined');
    await api.call('PUT', `${API}/fabrics/0/vlans/0/`, { key: admin, form: { space: String(space.id) } });

    // Deleting the space puts its VLANs back in the undefined space.
    const del = await api.call('DELETE', `${SPACES}${space.id}/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.equal(
      ((await api.call('GET', `${API}/fabrics/0/vlans/0/`, { key: alice })).body as Json).space,
      'undefined',
    );
    assert.equal((await api.call('GET', `${SPACES}${space.id}/`, { key: alice })).status, 404);
  });

  it('bad input is a 400 naming the field and writes nothing; the undefined space cannot change', async () => {
    await api.call('POST', SPACES, { key: admin, form: { name: 'taken' } });
    const before = await spaceNames();
    for (const name of ['', 'bad name', 'a/b', 'undefined', 'taken', 'x'.repeat(300)]) {
      const r = await api.call('POST', SPACES, { key: admin, form: { name } });
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.ok('name' in (r.body as Json), r.text);
    }
    const vlan = await api.call('PUT', `${API}/fabrics/0/vlans/0/`, { key: admin, form: { space: 'nowhere' } });
    assert.equal(vlan.status, 400, vlan.text);
    assert.ok('space' in (vlan.body as Json));
    assert.equal(
      ((await api.call('GET', `${API}/fabrics/0/vlans/0/`, { key: alice })).body as Json).space,
      'undefined',
    );
    const put = await api.call('PUT', `${SPACES}-1/`, { key: admin, form: { name: 'x' } });
    assert.equal(put.status, 400);
    assert.match(put.text, /Space cannot be modified: undefined/);
    const del = await api.call('DELETE', `${SPACES}undefined/`, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /Space cannot be deleted: undefined/);
    assert.deepEqual(await spaceNames(), before);
  });

  it('a name is generated when none is given; non-admins may not change spaces (403)', async () => {
    const c = await api.call('POST', SPACES, { key: admin, form: {} });
    assert.equal(c.status, 200, c.text);
    assert.equal((c.body as Json).name, `space-${(c.body as Json).id}`);
    const before = await spaceNames();
    assert.equal((await api.call('POST', SPACES, { key: alice, form: { name: 'mine' } })).status, 403);
    assert.equal((await api.call('PUT', `${SPACES}taken/`, { key: alice, form: { name: 'x' } })).status, 403);
    assert.equal((await api.call('DELETE', `${SPACES}taken/`, { key: alice })).status, 403);
    assert.deepEqual(await spaceNames(), before);
  });
});
