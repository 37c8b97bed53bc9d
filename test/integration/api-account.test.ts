// MAAS API: account/ (the caller's API tokens) over real HTTP on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountResources } from '../../src/api/resources/account';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const ACCOUNT = '/MAAS/api/2.0/account/';

describe('MAAS API: account tokens', () => {
  let api: ResourceApi;
  let alice: { id: number; key: string };
  let bob: { id: number; key: string };
  const list = async (key: string) =>
    (await api.call('GET', `${ACCOUNT}?op=list_authorisation_tokens`, { key })).body as Json[];

  before(async () => {
    api = await startResourceApi((services) => accountResources({ services }));
    alice = await api.user('alice');
    bob = await api.user('bob');
  });
  after(async () => api?.close());

  it('creates a token that works as an API key, named or "MAAS consumer" by default', async () => {
    const r = await api.call('POST', `${ACCOUNT}?op=create_authorisation_token`, {
      key: alice.key,
      form: { name: 'ci' },
    });
    assert.equal(r.status, 200, r.text);
    const t = r.body as Record<string, string>;
    assert.deepEqual(Object.keys(t).sort(), ['consumer_key', 'name', 'token_key', 'token_secret']);
    assert.equal(t.name, 'ci');
    const newKey = `${t.consumer_key}:${t.token_key}:${t.token_secret}`;
    assert.ok(
      (await list(newKey)).some((e) => e.token === newKey && e.name === 'ci'),
      'the new key signs requests and is listed',
    );

    const unnamed = await api.call('POST', `${ACCOUNT}?op=create_authorisation_token`, { key: alice.key });
    assert.equal((unnamed.body as Json).name, 'MAAS consumer');
  });

  it("lists only the caller's tokens as {name, token}", async () => {
    const mine = await list(alice.key);
    assert.ok(mine.length >= 3);
    for (const e of mine) {
      assert.deepEqual(Object.keys(e).sort(), ['name', 'token']);
      assert.match(String(e.token), /^[^:]+:[^:]+:[^:]+$/);
    }
    assert.ok(mine.some((e) => e.token === alice.key));
    const bobs = await list(bob.key);
    assert.equal(bobs.length, 1);
    assert.equal(bobs[0]!.token, bob.key);
  });

  it('renames a token by key or by whole API key; 202 "Accepted"', async () => {
    const tokenKey = alice.key.split(':')[1]!;
    const r = await api.call('POST', `${ACCOUNT}?op=update_token_name`, {
      key: alice.key,
      form: { token: tokenKey, name: 'laptop' },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.text, 'Accepted');
    assert.equal((await list(alice.key)).find((e) => e.token === alice.key)!.name, 'laptop');
    await api.call('POST', `${ACCOUNT}?op=update_token_name`, {
      key: alice.key,
      form: { token: alice.key, name: 'desk' },
    });
    assert.equal((await list(alice.key)).find((e) => e.token === alice.key)!.name, 'desk');

    const missing = await api.call('POST', `${ACCOUNT}?op=update_token_name`, {
      key: alice.key,
      form: { token: tokenKey },
    });
    assert.equal(missing.status, 400);
    assert.ok('name' in (missing.body as Json));
    const noToken = await api.call('POST', `${ACCOUNT}?op=update_token_name`, { key: alice.key, form: { name: 'x' } });
    assert.ok('token' in (noToken.body as Json));
    const bobsToken = bob.key.split(':')[1]!;
    assert.equal(
      (
        await api.call('POST', `${ACCOUNT}?op=update_token_name`, {
          key: alice.key,
          form: { token: bobsToken, name: 'mine now' },
        })
      ).status,
      404,
    );
    assert.equal((await list(bob.key))[0]!.name, '', "bob's token is untouched");
  });

  it("deletes the caller's own tokens only", async () => {
    const created = (await api.call('POST', `${ACCOUNT}?op=create_authorisation_token`, { key: alice.key }))
      .body as Record<string, string>;
    const doomed = `${created.consumer_key}:${created.token_key}:${created.token_secret}`;
    const noKey = await api.call('POST', `${ACCOUNT}?op=delete_authorisation_token`, { key: alice.key });
    assert.equal(noKey.status, 400);
    assert.ok('token_key' in (noKey.body as Json));
    assert.equal(
      (
        await api.call('POST', `${ACCOUNT}?op=delete_authorisation_token`, {
          key: alice.key,
          form: { token_key: bob.key.split(':')[1]! },
        })
      ).status,
      404,
    );
    assert.equal((await list(bob.key)).length, 1);

    const r = await api.call('POST', `${ACCOUNT}?op=delete_authorisation_token`, {
      key: alice.key,
      form: { token_key: created.token_key! },
    });
    assert.equal(r.status, 204, r.text);
    assert.equal((await api.call('GET', `${ACCOUNT}?op=list_authorisation_tokens`, { key: doomed })).status, 401);
    assert.equal(
      (
        await api.call('POST', `${ACCOUNT}?op=delete_authorisation_token`, {
          key: alice.key,
          form: { token_key: created.token_key! },
        })
      ).status,
      404,
    );
  });
  it("finds a token with its holder whichever kind the caller expects first (the MAAS API users', the metadata server machines'); an unknown key is nobody's", async () => {
    const [consumerKey, tokenKey, tokenSecret] = alice.key.split(':') as [string, string, string];
    for (const expected of ['user', 'machine'] as const) {
      const found = await api.services.credentials.findByTokenKey(tokenKey, expected);
      assert.ok(found?.principal.kind === 'user', `alice's key, ${expected} expected first`);
      assert.deepEqual(
        [found.principal.user.id, found.principal.user.username, found.consumerKey, found.tokenSecret],
        [alice.id, 'alice', consumerKey, tokenSecret],
      );
    }

    const m = await api.services.machines.create({
      hostname: 'token-holder',
      macAddresses: [],
      powerParameters: {},
      deployed: true,
      ownerId: null,
    });
    const token = await api.services.machines.machineToken(m.id);
    for (const expected of ['machine', 'user'] as const) {
      const found = await api.services.credentials.findByTokenKey(token.tokenKey, expected);
      assert.ok(found?.principal.kind === 'machine', `the machine's token, ${expected} expected first`);
      assert.deepEqual(
        [found.principal.machine.systemId, found.principal.machine.hostname, found.consumerKey, found.tokenSecret],
        [m.systemId, 'token-holder', token.consumerKey, token.tokenSecret],
      );
    }

    for (const expected of ['user', 'machine'] as const)
      assert.equal(await api.services.credentials.findByTokenKey('no-such-token', expected), null);
  });
});
