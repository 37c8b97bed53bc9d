// MAAS API: account/prefs/sshkeys/ over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sshKeyResources } from '../../src/api/resources/sshkeys';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const KEYS = '/MAAS/api/2.0/account/prefs/sshkeys/';
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpQm3Vb0xXz1v9N5Rj7jL9r2xk8t3cQy1f5Zk4wYb0E alice@laptop';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob@desk';

describe('MAAS API: SSH keys', () => {
  let api: ResourceApi;
  let alice: { id: number; key: string };
  let bob: { id: number; key: string };
  let alicesKey: Json;
  const keyCount = async () =>
    Number(((await api.services.db.query('SELECT count(*) AS n FROM ssh_keys')) as Array<{ n: string }>)[0]!.n);

  before(async () => {
    api = await startResourceApi((services) => sshKeyResources({ services }));
    alice = await api.user('alice');
    bob = await api.user('bob');
  });
  after(async () => api?.close());

  it('adds a key (201, MAAS shape) and lists it', async () => {
    const r = await api.call('POST', KEYS, { key: alice.key, form: { key: ED25519 } });
    assert.equal(r.status, 201, r.text);
    alicesKey = r.body as Json;
    assert.deepEqual(alicesKey, {
      id: alicesKey.id,
      key: ED25519,
      keysource: '',
      resource_uri: `${KEYS}${String(alicesKey.id)}/`,
    });
    const listed = await api.call('GET', KEYS, { key: alice.key });
    assert.deepEqual(listed.body, [alicesKey]);
    const one = await api.call('GET', `${KEYS}${String(alicesKey.id)}/`, { key: alice.key });
    assert.deepEqual(one.body, alicesKey);
  });

  it('bad keys and duplicates are a 400 naming key, and store nothing', async () => {
    const before = await keyCount();
    for (const form of <Array<Record<string, string>>>[
      {},
      { key: '' },
      { key: 'not a key' },
      { key: 'ssh-rsa !!!notbase64' },
      { key: ED25519 },
    ]) {
      const r = await api.call('POST', KEYS, { key: alice.key, form });
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.ok('key' in (r.body as Json), r.text);
    }
    assert.equal(await keyCount(), before);
  });

  it("another user's key is a 404, for reading and deleting", async () => {
    await api.call('POST', KEYS, { key: bob.key, form: { key: RSA } });
    assert.deepEqual(
      ((await api.call('GET', KEYS, { key: bob.key })).body as Json[]).map((k) => k.key),
      [RSA],
    );
    assert.equal((await api.call('GET', `${KEYS}${String(alicesKey.id)}/`, { key: bob.key })).status, 404);
    assert.equal((await api.call('DELETE', `${KEYS}${String(alicesKey.id)}/`, { key: bob.key })).status, 404);
    assert.equal(
      (await api.call('GET', `${KEYS}${String(alicesKey.id)}/`, { key: alice.key })).status,
      200,
      'still there',
    );
    assert.equal((await api.call('GET', `${KEYS}999999/`, { key: alice.key })).status, 404);
    assert.equal((await api.call('GET', `${KEYS}abc/`, { key: alice.key })).status, 404);
  });

  it('deletes own keys (204)', async () => {
    const r = await api.call('DELETE', `${KEYS}${String(alicesKey.id)}/`, { key: alice.key });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual((await api.call('GET', KEYS, { key: alice.key })).body, []);
    assert.equal((await api.call('DELETE', `${KEYS}${String(alicesKey.id)}/`, { key: alice.key })).status, 404);
  });
});
