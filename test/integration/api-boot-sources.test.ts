// boot-sources/ and boot-sources/{id}/selections/ describe the images built locally, in MAAS's
// shapes; creating, changing or deleting them is a 400 that says why. Real HTTP and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type ApiClient } from '../helpers/api';
import { bootRootWith } from '../helpers/boot-images';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;
const BASE = '/MAAS/api/2.0/boot-sources/';

describe('MAAS API: boot sources and selections', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;

  before(async () => {
    region = await startTestRegion({ bootRoot: bootRootWith(['debian/bookworm', 'ubuntu/noble']) });
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('lists the one local source and a selection per os/series, in MAAS shapes', async () => {
    const list = await api.call('GET', BASE, { key: alice });
    assert.equal(list.status, 200, list.text);
    const [source] = list.body as Json[];
    assert.equal((list.body as Json[]).length, 1);
    assert.equal(source!.id, 1);
    assert.equal(source!.resource_uri, '/MAAS/api/2.0/boot-sources/1/');
    for (const key of ['url', 'keyring_filename', 'keyring_data', 'created', 'updated', 'priority', 'enabled'])
      assert.ok(key in source!, key);
    assert.equal(source!.created, '2026-01-02T03:04:05.000');
    assert.deepEqual((await api.call('GET', `${BASE}1/`, { key: alice })).body, source);

    const selections = await api.call('GET', `${BASE}1/selections/`, { key: alice });
    assert.equal(selections.status, 200, selections.text);
    assert.deepEqual(selections.body, [
      {
        id: 1,
        boot_source_id: 1,
        os: 'debian',
        release: 'bookworm',
        arches: ['amd64'],
        subarches: ['*'],
        labels: ['*'],
        resource_uri: '/MAAS/api/2.0/boot-sources/1/selections/1/',
      },
      {
        id: 2,
        boot_source_id: 1,
        os: 'ubuntu',
        release: 'noble',
        arches: ['amd64'],
        subarches: ['*'],
        labels: ['*'],
        resource_uri: '/MAAS/api/2.0/boot-sources/1/selections/2/',
      },
    ]);
    const one = await api.call('GET', `${BASE}1/selections/2/`, { key: alice });
    assert.equal((one.body as Json).release, 'noble');
    assert.equal((await api.call('GET', `${BASE}2/`, { key: alice })).status, 404);
    assert.equal((await api.call('GET', `${BASE}1/selections/3/`, { key: alice })).status, 404);
    assert.equal((await api.call('GET', `${BASE}2/selections/`, { key: alice })).status, 404);
  });

  it('refuses create, update and delete with a 400 saying images are built locally (403 for users)', async () => {
    const calls: Array<[string, string, Record<string, string>]> = [
      ['POST', BASE, { url: 'http://images.maas.io/ephemeral-v3/stable/', keyring_filename: '/k.gpg' }],
      ['PUT', `${BASE}1/`, { url: 'http://mirror/' }],
      ['DELETE', `${BASE}1/`, {}],
      ['POST', `${BASE}1/selections/`, { os: 'ubuntu', release: 'jammy', arches: 'amd64' }],
      ['PUT', `${BASE}1/selections/1/`, { release: 'trixie' }],
      ['DELETE', `${BASE}1/selections/1/`, {}],
    ];
    for (const [method, path, form] of calls) {
      const r = await api.call(method, path, { key: admin, form });
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      assert.match(r.text, /builds its images locally/);
      assert.equal((await api.call(method, path, { key: alice, form })).status, 403);
    }
    assert.equal((await api.call('GET', `${BASE}1/selections/`, { key: alice })).status, 200);
  });
});
