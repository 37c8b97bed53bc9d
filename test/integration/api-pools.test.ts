// MAAS API: resourcepools/ and resourcepool/{id}/ over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { poolResources } from '../../src/api/resources/pools';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';
import { deployedMachineInput } from '../helpers/factories';

type Json = Record<string, unknown>;
const POOLS = '/MAAS/api/2.0/resourcepools/';
const POOL = '/MAAS/api/2.0/resourcepool/';

describe('MAAS API: resource pools', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  const poolNames = async () =>
    ((await api.services.db.query('SELECT name FROM resource_pools ORDER BY name')) as Array<{ name: string }>).map(
      (p) => p.name,
    );

  before(async () => {
    api = await startResourceApi((services) => poolResources({ services }));
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
  });
  after(async () => api?.close());

  it('lists the default pool to everyone, with a singular resource_uri by id', async () => {
    const pools = (await api.call('GET', POOLS, { key: alice })).body as Json[];
    assert.equal(pools.length, 1);
    assert.deepEqual(pools[0], {
      id: pools[0]!.id,
      name: 'default',
      description: 'Default pool',
      resource_uri: `${POOL}${String(pools[0]!.id)}/`,
    });
  });

  it('admins create pools; they are found by id or by name; updated and deleted', async () => {
    const c = await api.call('POST', POOLS, { key: admin, form: { name: 'gpu', description: 'GPU boxes' } });
    assert.equal(c.status, 200, c.text);
    const id = (c.body as Json).id as number;
    assert.deepEqual(c.body, { id, name: 'gpu', description: 'GPU boxes', resource_uri: `${POOL}${id}/` });
    for (const spec of [String(id), 'gpu', `id:${id}`, 'name:gpu']) {
      assert.deepEqual((await api.call('GET', `${POOL}${spec}/`, { key: alice })).body, c.body, spec);
    }
    assert.equal((await api.call('GET', `${POOL}nope/`, { key: alice })).status, 404);
    assert.equal((await api.call('GET', `${POOL}99999/`, { key: alice })).status, 404);
    assert.equal((await api.call('GET', `${POOL}99999999999999999999/`, { key: alice })).status, 404);

    const u = await api.call('PUT', `${POOL}gpu/`, { key: admin, form: { name: 'gpus' } });
    assert.equal(u.status, 200, u.text);
    assert.equal((u.body as Json).name, 'gpus');
    assert.equal((u.body as Json).description, 'GPU boxes');

    const del = await api.call('DELETE', `${POOL}${id}/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual(await poolNames(), ['default']);
    assert.equal((await api.call('DELETE', `${POOL}${id}/`, { key: admin })).status, 404);
  });

  it('bad input is a 400 naming the field and writes nothing', async () => {
    await api.call('POST', POOLS, { key: admin, form: { name: 'taken' } });
    const before = await poolNames();
    for (const form of <Array<Record<string, string>>>[{}, { name: '' }, { name: 'a/b' }, { name: 'taken' }]) {
      const r = await api.call('POST', POOLS, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.ok('name' in (r.body as Json), r.text);
    }
    assert.deepEqual(await poolNames(), before);
  });

  it('the default pool, and a pool with machines, cannot be deleted (400)', async () => {
    const del = await api.call('DELETE', `${POOL}default/`, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /default pool, it cannot be deleted/);
    const ren = await api.call('PUT', `${POOL}default/`, { key: admin, form: { name: 'other' } });
    assert.equal(ren.status, 400);
    assert.ok('name' in (ren.body as Json));

    await api.call('POST', POOLS, { key: admin, form: { name: 'busy' } });
    await api.services.machines.create(deployedMachineInput('in-busy', null, { pool: 'busy' }));
    const busy = await api.call('DELETE', `${POOL}busy/`, { key: admin });
    assert.equal(busy.status, 400);
    assert.match(busy.text, /Pool has machines in it, it cannot be deleted/);
    assert.ok((await poolNames()).includes('busy'));
    assert.ok((await poolNames()).includes('default'));
  });

  it('non-admins may not change pools (403)', async () => {
    const before = await poolNames();
    assert.equal((await api.call('POST', POOLS, { key: alice, form: { name: 'mine' } })).status, 403);
    assert.equal((await api.call('PUT', `${POOL}taken/`, { key: alice, form: { name: 'mine' } })).status, 403);
    assert.equal((await api.call('DELETE', `${POOL}taken/`, { key: alice })).status, 403);
    assert.deepEqual(await poolNames(), before);
  });
});
