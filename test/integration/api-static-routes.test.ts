// MAAS API: static-routes/ over real HTTP on PostgreSQL, with MAAS's checks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { staticRouteResources } from '../../src/api/resources/static-routes';
import { subnetResources } from '../../src/api/resources/subnets';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const ROUTES = `${API}/static-routes/`;

describe('MAAS API: static routes', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  const ids: Record<string, number> = {};
  const count = async () =>
    Number(((await api.services.db.query('SELECT count(*) AS n FROM static_routes')) as Array<{ n: string }>)[0]!.n);

  before(async () => {
    api = await startResourceApi((services) => [
      ...staticRouteResources({ services }),
      ...subnetResources({ services }),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
    for (const [name, cidr] of [
      ['a', '10.60.0.0/24'],
      ['b', '10.61.0.0/24'],
      ['v6', 'fd00:60::/64'],
    ] as const) {
      const r = await api.call('POST', `${API}/subnets/`, { key: admin, form: { cidr, name: `net-${name}` } });
      assert.equal(r.status, 200, r.text);
      ids[name] = (r.body as Json).id as number;
    }
  });
  after(async () => api?.close());

  it('admins create, list, read, update and delete routes, subnets nested as MAAS shows them', async () => {
    const c = await api.call('POST', ROUTES, {
      key: admin,
      form: { source: String(ids.a), destination: '10.61.0.0/24', gateway_ip: '10.60.0.1', metric: '5' },
    });
    assert.equal(c.status, 200, c.text);
    const route = c.body as Json;
    assert.deepEqual(Object.keys(route).sort(), [
      'destination',
      'gateway_ip',
      'id',
      'metric',
      'resource_uri',
      'source',
    ]);
    assert.equal((route.source as Json).cidr, '10.60.0.0/24');
    assert.equal((route.destination as Json).id, ids.b);
    assert.equal(route.gateway_ip, '10.60.0.1');
    assert.equal(route.metric, 5);
    assert.equal(route.resource_uri, `${ROUTES}${route.id}/`);
    assert.deepEqual((await api.call('GET', ROUTES, { key: alice })).body, [route]);
    assert.deepEqual((await api.call('GET', `${ROUTES}${route.id}/`, { key: alice })).body, route);

    const u = await api.call('PUT', `${ROUTES}${route.id}/`, { key: admin, form: { gateway_ip: '10.60.0.254' } });
    assert.equal(u.status, 200, u.text);
    assert.equal((u.body as Json).gateway_ip, '10.60.0.254');
    assert.equal((u.body as Json).metric, 5, 'what is not sent is kept');
    const moved = await api.call('PUT', `${ROUTES}${route.id}/`, {
      key: admin,
      form: { source: String(ids.b), destination: String(ids.a) },
    });
    assert.equal(moved.status, 400, 'the gateway must stay on the (new) source subnet');
    assert.match(moved.text, /gateway_ip must be with in the source subnet/);

    assert.equal((await api.call('DELETE', `${ROUTES}${route.id}/`, { key: admin })).status, 204);
    assert.equal((await api.call('GET', `${ROUTES}${route.id}/`, { key: admin })).status, 404);
    assert.equal(await count(), 0);
  });

  it("refuses what MAAS refuses, in MAAS's words, and writes nothing", async () => {
    const base = { source: String(ids.a), destination: String(ids.b), gateway_ip: '10.60.0.1' };
    await api.call('POST', ROUTES, { key: admin, form: base });
    const before = await count();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ...base, source: '' }, /source/],
      [{ destination: base.destination, gateway_ip: base.gateway_ip }, /source/],
      [{ ...base, gateway_ip: '10.99.0.1' }, /gateway_ip must be with in the source subnet/],
      [{ ...base, gateway_ip: 'gateway' }, /gateway_ip/],
      [{ ...base, destination: String(ids.a) }, /source and destination cannot be the same subnet/],
      [{ ...base, destination: String(ids.v6) }, /source and destination must be the same IP version/],
      [{ ...base, destination: '999999' }, /Select a valid choice/],
      [{ ...base, destination: '10.0.0.0/99' }, /destination/],
      [{ ...base, metric: '-1' }, /metric/],
      [base, /already exists/],
    ];
    for (const [form, why] of cases) {
      const r = await api.call('POST', ROUTES, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.match(r.text, why, JSON.stringify(form));
    }
    assert.equal((await api.call('POST', ROUTES, { key: alice, form: { ...base, metric: '9' } })).status, 403);
    assert.equal(await count(), before);
  });

  it('a route goes when its subnet is deleted', async () => {
    const r = await api.call('POST', `${API}/subnets/`, { key: admin, form: { cidr: '10.62.0.0/24' } });
    const id = (r.body as Json).id as number;
    const c = await api.call('POST', ROUTES, {
      key: admin,
      form: { source: String(ids.a), destination: String(id), gateway_ip: '10.60.0.9' },
    });
    assert.equal(c.status, 200, c.text);
    assert.equal((await api.call('DELETE', `${API}/subnets/${id}/`, { key: admin })).status, 204);
    assert.equal((await api.call('GET', `${ROUTES}${(c.body as Json).id}/`, { key: admin })).status, 404);
  });
});
