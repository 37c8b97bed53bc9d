import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import OAuth from 'oauth-1.0a';
import { ApiError } from '../../../src/api/http/errors';
import { authenticateOAuth, type CredentialStore, oauthHeader, parseOAuthHeader } from '../../../src/api/http/oauth';

const CONSUMER = 'cOnSuMeRkEy123456';
const TOKEN = 'tOkEnKeY12345678';
const SECRET = 'sEcReT1234567890abcdefghijklmnop';
const API_KEY = `${CONSUMER}:${TOKEN}:${SECRET}`;

function storeWith(
  entries: Record<string, { consumerKey: string; tokenSecret: string; principal: string }>,
): CredentialStore<string> {
  return { findByTokenKey: async (key) => entries[key] ?? null };
}
const store = storeWith({ [TOKEN]: { consumerKey: CONSUMER, tokenSecret: SECRET, principal: 'alice' } });

async function rejects401(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.status, 401);
    assert.match(String(err.body), message);
    assert.equal(err.contentType, 'text/plain; charset=utf-8');
    assert.equal(err.headers['WWW-Authenticate'], 'OAuth realm="MAAS API"');
    return true;
  });
}

/** A header in MAAS's documented form with the given fields overriding the good ones. */
function header(overrides: Record<string, string | undefined> = {}): string {
  const fields: Record<string, string | undefined> = {
    oauth_version: '1.0',
    oauth_signature_method: 'PLAINTEXT',
    oauth_consumer_key: CONSUMER,
    oauth_token: TOKEN,
    oauth_signature: `%26${SECRET}`,
    oauth_nonce: 'n0nce',
    oauth_timestamp: '1700000000',
    ...overrides,
  };
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${v}"`);
  return `OAuth realm="", ${parts.join(', ')}`;
}

describe('MAAS OAuth (PLAINTEXT)', () => {
  it('accepts a correct header and returns the principal', async () => {
    assert.equal(await authenticateOAuth(header(), store), 'alice');
    assert.equal(await authenticateOAuth(oauthHeader(API_KEY), store), 'alice');
  });

  it('treats no header, or a non-OAuth scheme, as anonymous', async () => {
    assert.equal(await authenticateOAuth(undefined, store), null);
    assert.equal(await authenticateOAuth('Basic YWxpY2U6cHc=', store), null);
  });

  it('rejects a wrong token secret', async () => {
    await rejects401(authenticateOAuth(header({ oauth_signature: '%26not-the-secret' }), store), /Invalid signature/);
    await rejects401(authenticateOAuth(oauthHeader(`${CONSUMER}:${TOKEN}:${SECRET}x`), store), /Invalid signature/);
    // The secret as consumer secret, or a non-empty consumer secret, is not PLAINTEXT's form.
    await rejects401(authenticateOAuth(header({ oauth_signature: `${SECRET}%26` }), store), /Invalid signature/);
    await rejects401(authenticateOAuth(header({ oauth_signature: `x%26${SECRET}` }), store), /Invalid signature/);
    await rejects401(authenticateOAuth(header({ oauth_signature: SECRET }), store), /Invalid signature/);
  });

  it('rejects a consumer key that does not belong to the token', async () => {
    await rejects401(authenticateOAuth(header({ oauth_consumer_key: 'someoneelse' }), store), /Invalid API key/);
  });

  it('rejects an unknown token', async () => {
    await rejects401(authenticateOAuth(header({ oauth_token: 'nosuchtoken' }), store), /Invalid access token/);
  });

  it('names the missing part of an incomplete header', async () => {
    for (const name of ['oauth_consumer_key', 'oauth_token', 'oauth_signature', 'oauth_signature_method']) {
      await rejects401(authenticateOAuth(header({ [name]: undefined }), store), new RegExp(`lacks ${name}`));
    }
    await rejects401(authenticateOAuth('OAuth', store), /lacks/);
  });

  it('refuses signature methods other than PLAINTEXT', async () => {
    await rejects401(
      authenticateOAuth(header({ oauth_signature_method: 'HMAC-SHA1' }), store),
      /unsupported signature method HMAC-SHA1/,
    );
  });

  it('rejects malformed headers', async () => {
    await rejects401(authenticateOAuth('OAuth this is not a header', store), /malformed/);
    await rejects401(authenticateOAuth(header({ oauth_signature: '%E0%A4%A' }), store), /malformed percent-encoding/);
    await rejects401(authenticateOAuth(`${header()}, oauth_token="again"`, store), /appears twice/);
  });

  it('refuses control characters in any decoded value before the token lookup (401)', async () => {
    let lookups = 0;
    const counting: CredentialStore<string> = {
      findByTokenKey: async (key) => (lookups++, store.findByTokenKey(key)),
    };
    for (const field of ['oauth_token', 'oauth_consumer_key', 'oauth_signature', 'oauth_nonce']) {
      for (const bad of ['%00', 'a%0Ab', '%09', '%7F', '%1B']) {
        await rejects401(authenticateOAuth(header({ [field]: bad }), counting), /control characters/);
      }
    }
    await rejects401(authenticateOAuth(`${header()}, x%00="1"`, counting), /control characters/);
    assert.equal(lookups, 0);
  });

  it('percent-decodes values, and a secret with reserved characters round-trips', async () => {
    const secret = 'a b&c/d+é=%';
    const odd = storeWith({ 'tok/en': { consumerKey: 'con sumer', tokenSecret: secret, principal: 'bob' } });
    const built = oauthHeader(`con sumer:tok/en:${secret}`);
    assert.match(built, /oauth_token="tok%2Fen"/);
    assert.equal(await authenticateOAuth(built, odd), 'bob');
    const parsed = parseOAuthHeader(built);
    assert.equal(parsed.consumerKey, 'con sumer');
    assert.equal(parsed.tokenKey, 'tok/en');
    assert.equal(
      parsed.signature,
      `&${encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    );
    // A signature whose "&" was not encoded in the header is the same signature.
    assert.equal(await authenticateOAuth(header({ oauth_signature: `&${SECRET}` }), store), 'alice');
  });

  it('accepts headers produced by the oauth-1.0a package, as the CLI and benchmarks build them', async () => {
    const oauth = new OAuth({ consumer: { key: CONSUMER, secret: '' }, signature_method: 'PLAINTEXT' });
    const data = oauth.authorize(
      { url: 'http://maas/MAAS/api/2.0/machines/', method: 'GET' },
      { key: TOKEN, secret: SECRET },
    );
    const { Authorization } = oauth.toHeader(data);
    assert.equal(await authenticateOAuth(Authorization, store), 'alice');
    const wrong = oauth.toHeader(
      oauth.authorize({ url: 'http://maas/', method: 'GET' }, { key: TOKEN, secret: 'nope' }),
    );
    await rejects401(authenticateOAuth(wrong.Authorization, store), /Invalid signature/);
  });

  it('builds headers in the documented MAAS form', () => {
    const built = oauthHeader(API_KEY, { nonce: 'abc', timestamp: 1700000000 });
    assert.equal(
      built,
      `OAuth realm="", oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="${CONSUMER}", ` +
        `oauth_token="${TOKEN}", oauth_signature="%26${SECRET}", oauth_nonce="abc", oauth_timestamp="1700000000"`,
    );
    assert.throws(() => oauthHeader('only:two'), /consumer_key:token_key:token_secret/);
  });
});
