// MAAS API: users/ and users/{username}/ over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { userResources } from '../../src/api/resources/users';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';
import { deployedMachineInput } from '../helpers/factories';

type Json = Record<string, unknown>;

describe('MAAS API: users', () => {
  let api: ResourceApi;
  let admin: { id: number; key: string };
  let alice: { id: number; key: string };
  const userCount = async () =>
    Number(((await api.services.db.query('SELECT count(*) AS n FROM users')) as Array<{ n: string }>)[0]!.n);

  before(async () => {
    api = await startResourceApi((services) => userResources({ services }));
    admin = await api.user('admin', true);
    alice = await api.user('alice');
  });
  after(async () => api?.close());

  it('whoami answers the signing user in MAAS shape', async () => {
    const r = await api.call('GET', '/MAAS/api/2.0/users/?op=whoami', { key: alice.key });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      id: alice.id,
      username: 'alice',
      email: 'alice@example.com',
      is_superuser: false,
      is_local: true,
      last_name: '',
      resource_uri: '/MAAS/api/2.0/users/alice/',
    });
    const a = await api.call('GET', '/MAAS/api/2.0/users/op-whoami', { key: admin.key });
    assert.equal((a.body as Json).is_superuser, true);
    assert.equal((await api.call('GET', '/MAAS/api/2.0/users/?op=whoami')).status, 401);
  });

  it('everyone lists and reads users, ordered by username', async () => {
    for (const key of [admin.key, alice.key]) {
      const r = await api.call('GET', '/MAAS/api/2.0/users/', { key });
      assert.equal(r.status, 200);
      const names = (r.body as Json[]).map((u) => u.username);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('admin') && names.includes('alice'));
    }
    const one = await api.call('GET', '/MAAS/api/2.0/users/admin/', { key: alice.key });
    assert.equal((one.body as Json).username, 'admin');
    assert.equal((await api.call('GET', '/MAAS/api/2.0/users/nobody/', { key: alice.key })).status, 404);
  });

  it('admins create users; bad input is a 400 naming the field and creates nothing', async () => {
    const r = await api.call('POST', '/MAAS/api/2.0/users/', {
      key: admin.key,
      form: { username: 'carol', email: 'carol@example.com', password: 'secret', is_superuser: '0' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.body as Json).username, 'carol');
    assert.equal((r.body as Json).is_superuser, false);
    assert.equal((r.body as Json).resource_uri, '/MAAS/api/2.0/users/carol/');

    const before = await userCount();
    const cases: Array<[Record<string, string>, string]> = [
      [{ email: 'x@example.com', password: 'p', is_superuser: '0' }, 'username'],
      [{ username: 'dave', password: 'p', is_superuser: '0' }, 'email'],
      [{ username: 'dave', email: 'not-an-email', password: 'p', is_superuser: '0' }, 'email'],
      [{ username: 'dave', email: 'd@example.com', is_superuser: '0' }, 'password'],
      [{ username: 'dave', email: 'd@example.com', password: 'p' }, 'is_superuser'],
      [{ username: 'dave', email: 'd@example.com', password: 'p', is_superuser: 'maybe' }, 'is_superuser'],
      [{ username: 'bad name!', email: 'd@example.com', password: 'p', is_superuser: '0' }, 'username'],
      [{ username: 'carol', email: 'd@example.com', password: 'p', is_superuser: '0' }, 'username'],
    ];
    for (const [form, field] of cases) {
      const bad = await api.call('POST', '/MAAS/api/2.0/users/', { key: admin.key, form });
      assert.equal(bad.status, 400, `${JSON.stringify(form)}: ${bad.text}`);
      assert.ok(field in (bad.body as Json), `${JSON.stringify(form)} names ${field}: ${bad.text}`);
    }
    assert.equal(await userCount(), before);
  });

  it('non-admins may not create or delete users (403)', async () => {
    const before = await userCount();
    const r = await api.call('POST', '/MAAS/api/2.0/users/', {
      key: alice.key,
      form: { username: 'eve', email: 'e@example.com', password: 'p', is_superuser: '1' },
    });
    assert.equal(r.status, 403);
    assert.equal((await api.call('DELETE', '/MAAS/api/2.0/users/admin/', { key: alice.key })).status, 403);
    assert.equal(await userCount(), before);
  });

  it('admins delete users, not themselves, and not owners of machines unless transferring them', async () => {
    const frank = await api.user('frank');
    const machine = await api.services.machines.create(deployedMachineInput('franks', frank.id));

    assert.equal((await api.call('DELETE', '/MAAS/api/2.0/users/admin/', { key: admin.key })).status, 400);
    const refused = await api.call('DELETE', '/MAAS/api/2.0/users/frank/', { key: admin.key });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /still allocated/);
    const badHeir = await api.call('DELETE', '/MAAS/api/2.0/users/frank/?transfer_resources_to=nobody', {
      key: admin.key,
    });
    assert.equal(badHeir.status, 400);
    assert.ok('transfer_resources_to' in (badHeir.body as Json));

    const ok = await api.call('DELETE', '/MAAS/api/2.0/users/frank/?transfer_resources_to=alice', { key: admin.key });
    assert.equal(ok.status, 204, ok.text);
    const owner = (await api.services.db.query('SELECT owner_id FROM machines WHERE id = $1', [machine.id])) as Array<{
      owner_id: number;
    }>;
    assert.equal(owner[0]!.owner_id, alice.id);
    assert.equal((await api.call('GET', '/MAAS/api/2.0/users/frank/', { key: admin.key })).status, 404);
    assert.equal(
      (await api.call('GET', '/MAAS/api/2.0/users/?op=whoami', { key: frank.key })).status,
      401,
      "the deleted user's key is gone",
    );
    assert.equal((await api.call('DELETE', '/MAAS/api/2.0/users/frank/', { key: admin.key })).status, 404);
  });
});
