// MAAS API: zones/ over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zoneResources } from '../../src/api/resources/zones';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';
import { deployedMachineInput } from '../helpers/factories';

type Json = Record<string, unknown>;
const ZONES = '/MAAS/api/2.0/zones/';

describe('MAAS API: zones', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  const zoneNames = async () =>
    ((await api.services.db.query('SELECT name FROM zones ORDER BY name')) as Array<{ name: string }>).map(
      (z) => z.name,
    );

  before(async () => {
    api = await startResourceApi((services) => zoneResources({ services }));
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
  });
  after(async () => api?.close());

  it('lists the default zone to everyone', async () => {
    const r = await api.call('GET', ZONES, { key: alice });
    assert.equal(r.status, 200);
    const zones = r.body as Json[];
    assert.equal(zones.length, 1);
    assert.deepEqual(Object.keys(zones[0]!).sort(), ['description', 'id', 'name', 'resource_uri']);
    assert.equal(zones[0]!.name, 'default');
    assert.equal(zones[0]!.resource_uri, `${ZONES}default/`);
  });

  it('admins create, read, update and delete zones', async () => {
    const c = await api.call('POST', ZONES, { key: admin, form: { name: 'rack-1', description: 'first rack' } });
    assert.equal(c.status, 200, c.text);
    assert.equal((c.body as Json).name, 'rack-1');
    assert.equal((c.body as Json).description, 'first rack');
    assert.deepEqual((await api.call('GET', `${ZONES}rack-1/`, { key: alice })).body, c.body);

    const u = await api.call('PUT', `${ZONES}rack-1/`, {
      key: admin,
      form: { name: 'rack-one', description: 'renamed' },
    });
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.body, {
      id: (c.body as Json).id,
      name: 'rack-one',
      description: 'renamed',
      resource_uri: `${ZONES}rack-one/`,
    });
    assert.equal((await api.call('GET', `${ZONES}rack-1/`, { key: admin })).status, 404);
    const d = await api.call('PUT', `${ZONES}rack-one/`, { key: admin, form: { description: 'only the description' } });
    assert.equal((d.body as Json).name, 'rack-one');

    const m = await api.services.machines.create(deployedMachineInput('in-rack-one', null, { zone: 'rack-one' }));
    const del = await api.call('DELETE', `${ZONES}rack-one/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual(await zoneNames(), ['default']);
    const moved = (await api.services.db.query(
      'SELECT z.name FROM machines m JOIN zones z ON z.id = m.zone_id WHERE m.id = $1',
      [m.id],
    )) as Array<{ name: string }>;
    assert.equal(moved[0]!.name, 'default', "a deleted zone's machines move to the default zone");
    assert.equal((await api.call('DELETE', `${ZONES}rack-one/`, { key: admin })).status, 404);
    assert.equal((await api.call('PUT', `${ZONES}nowhere/`, { key: admin, form: { description: 'x' } })).status, 404);
  });

  it('bad input is a 400 naming the field and writes nothing', async () => {
    await api.call('POST', ZONES, { key: admin, form: { name: 'taken' } });
    const before = await zoneNames();
    for (const form of <Array<Record<string, string>>>[
      {},
      { name: '' },
      { name: 'bad/name' },
      { name: '-leading' },
      { name: 'x'.repeat(300) },
      { name: 'taken' },
    ]) {
      const r = await api.call('POST', ZONES, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.ok('name' in (r.body as Json), r.text);
    }
    const clash = await api.call('PUT', `${ZONES}taken/`, { key: admin, form: { name: 'default' } });
    assert.equal(clash.status, 400);
    assert.ok('name' in (clash.body as Json));
    assert.deepEqual(await zoneNames(), before);
  });

  it('the default zone can be neither deleted nor renamed (400)', async () => {
    const del = await api.call('DELETE', `${ZONES}default/`, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /default zone, it cannot be deleted/);
    const ren = await api.call('PUT', `${ZONES}default/`, { key: admin, form: { name: 'other' } });
    assert.equal(ren.status, 400);
    assert.ok('name' in (ren.body as Json));
    assert.ok((await zoneNames()).includes('default'));
    const desc = await api.call('PUT', `${ZONES}default/`, { key: admin, form: { description: 'the usual' } });
    assert.equal((desc.body as Json).description, 'the usual');
  });

  it('non-admins may not change zones (403)', async () => {
    const before = await zoneNames();
    assert.equal((await api.call('POST', ZONES, { key: alice, form: { name: 'mine' } })).status, 403);
    assert.equal((await api.call('PUT', `${ZONES}taken/`, { key: alice, form: { description: 'x' } })).status, 403);
    assert.equal((await api.call('DELETE', `${ZONES}taken/`, { key: alice })).status, 403);
    assert.deepEqual(await zoneNames(), before);
  });
});
