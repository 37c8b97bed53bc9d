// MAAS API: domains/ over real HTTP on PostgreSQL, and machines' domain and fqdn following them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainResources } from '../../src/api/resources/domains';
import { machineResources } from '../../src/api/resources/machines';
import { deployedMachineInput } from '../helpers/factories';
import { PRESENT, startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const DOMAINS = '/MAAS/api/2.0/domains/';
const MACHINE = (id: string) => `/MAAS/api/2.0/machines/${id}/`;

describe('MAAS API: domains', () => {
  let api: ResourceApi;
  let admin: string;
  let alice: string;
  const names = async () =>
    ((await api.services.db.query('SELECT name FROM domains ORDER BY id')) as Array<{ name: string }>).map(
      (d) => d.name,
    );

  before(async () => {
    api = await startResourceApi((services) => [
      ...domainResources({ services }),
      ...machineResources(services, PRESENT),
    ]);
    admin = (await api.user('admin', true)).key;
    alice = (await api.user('alice')).key;
  });
  after(async () => api?.close());

  it('lists the default domain maas (id 0) to everyone, in MAAS shape', async () => {
    const r = await api.call('GET', DOMAINS, { key: alice });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, [
      {
        id: 0,
        name: 'maas',
        ttl: null,
        authoritative: true,
        resource_record_count: 0,
        is_default: true,
        resource_uri: `${DOMAINS}0/`,
      },
    ]);
  });

  it('admins create, read (by id or name), update and delete domains', async () => {
    const c = await api.call('POST', DOMAINS, { key: admin, form: { name: 'lab.example', authoritative: 'false' } });
    assert.equal(c.status, 200, c.text);
    const d = c.body as Json;
    assert.equal(d.name, 'lab.example');
    assert.equal(d.authoritative, false);
    assert.equal(d.is_default, false);
    assert.deepEqual((await api.call('GET', `${DOMAINS}${d.id}/`, { key: alice })).body, d);
    assert.deepEqual((await api.call('GET', `${DOMAINS}lab.example/`, { key: alice })).body, d);

    const u = await api.call('PUT', `${DOMAINS}${d.id}/`, { key: admin, form: { ttl: '300', authoritative: 'true' } });
    assert.equal(u.status, 200, u.text);
    assert.equal((u.body as Json).ttl, 300);
    assert.equal((u.body as Json).authoritative, true);
    const cleared = await api.call('PUT', `${DOMAINS}${d.id}/`, { key: admin, form: { ttl: '' } });
    assert.equal((cleared.body as Json).ttl, null, 'an empty ttl clears it');

    const del = await api.call('DELETE', `${DOMAINS}${d.id}/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.deepEqual(await names(), ['maas']);
    assert.equal((await api.call('GET', `${DOMAINS}${d.id}/`, { key: admin })).status, 404);
  });

  it('set_default moves the default; new machines get it; the default cannot be deleted', async () => {
    const c = await api.call('POST', DOMAINS, { key: admin, form: { name: 'prod.example' } });
    const id = (c.body as Json).id;
    const s = await api.call('POST', `${DOMAINS}${id}/op-set_default`, { key: admin });
    assert.equal(s.status, 200, s.text);
    assert.equal((s.body as Json).is_default, true);
    const all = (await api.call('GET', DOMAINS, { key: alice })).body as Json[];
    assert.deepEqual(
      all.filter((x) => x.is_default).map((x) => x.name),
      ['prod.example'],
      'exactly one default',
    );
    const m = await api.services.machines.create(deployedMachineInput('in-default', null));
    assert.equal(m.domain, 'prod.example');
    const json = (await api.call('GET', MACHINE(m.systemId), { key: admin })).body as Json;
    assert.equal(json.fqdn, 'in-default.prod.example');
    assert.equal((json.domain as Json).id, id);
    assert.equal((json.domain as Json).is_default, true);
    assert.equal((json.domain as Json).resource_record_count, 1);

    const del = await api.call('DELETE', `${DOMAINS}${id}/`, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /default domain, it cannot be deleted/);
    await api.call('POST', `${DOMAINS}0/op-set_default`, { key: admin });
  });

  it('renaming a domain renames it on its machines; machine update domain= moves one; a domain in use is not deleted', async () => {
    const c = await api.call('POST', DOMAINS, { key: admin, form: { name: 'old.example' } });
    const id = (c.body as Json).id;
    const m = await api.services.machines.create(deployedMachineInput('renamed-host', null, { domain: 'old.example' }));
    const r = await api.call('PUT', `${DOMAINS}${id}/`, { key: admin, form: { name: 'new.example' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(
      ((await api.call('GET', MACHINE(m.systemId), { key: admin })).body as Json).fqdn,
      'renamed-host.new.example',
    );

    const inUse = await api.call('DELETE', `${DOMAINS}${id}/`, { key: admin });
    assert.equal(inUse.status, 400, inUse.text);
    assert.match(inUse.text, /protected foreign keys: 'Node.domain'/);
    assert.ok((await names()).includes('new.example'), 'nothing deleted');

    const moved = await api.call('PUT', MACHINE(m.systemId), { key: admin, form: { domain: 'maas' } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal((moved.body as Json).fqdn, 'renamed-host.maas');
    const bad = await api.call('PUT', MACHINE(m.systemId), { key: admin, form: { domain: 'nowhere.example' } });
    assert.equal(bad.status, 400, bad.text);
    assert.ok('domain' in (bad.body as Json));
    assert.equal((await api.call('DELETE', `${DOMAINS}${id}/`, { key: admin })).status, 204);
  });

  it('bad input is a 400 naming the field and writes nothing; non-admins get 403', async () => {
    await api.call('POST', DOMAINS, { key: admin, form: { name: 'taken.example' } });
    const before = await names();
    for (const form of <Array<Record<string, string>>>[
      {},
      { name: '' },
      { name: 'bad_name' },
      { name: '-lead.example' },
      { name: 'taken.example' },
      { name: 'ok.example', ttl: '0' },
      { name: 'ok.example', ttl: '604801' },
      { name: 'ok.example', ttl: 'soon' },
      { name: 'ok.example', authoritative: 'maybe' },
    ]) {
      const r = await api.call('POST', DOMAINS, { key: admin, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      const field = 'ttl' in form ? 'ttl' : 'authoritative' in form ? 'authoritative' : 'name';
      assert.ok(field in (r.body as Json), `${JSON.stringify(form)}: ${r.text}`);
    }
    const clash = await api.call('PUT', `${DOMAINS}taken.example/`, { key: admin, form: { name: 'maas' } });
    assert.equal(clash.status, 400);
    assert.equal((await api.call('POST', DOMAINS, { key: alice, form: { name: 'mine.example' } })).status, 403);
    assert.equal((await api.call('DELETE', `${DOMAINS}taken.example/`, { key: alice })).status, 403);
    assert.equal((await api.call('POST', `${DOMAINS}0/op-set_default`, { key: alice })).status, 403);
    assert.deepEqual(await names(), before);
  });
});
