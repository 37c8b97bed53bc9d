// Property tests of the OAuth header parser: any Authorization header gives a principal, anonymous
// (no OAuth header) or a 401, never anything else; a control character in any decoded value is
// refused before the token lookup; headers our own client builds always parse back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hasAnyControl } from '../../../src/api/http/control-chars';
import { ApiError } from '../../../src/api/http/errors';
import {
  authenticateOAuth,
  type CredentialStore,
  oauthEncode,
  oauthHeader,
  parseOAuthHeader,
} from '../../../src/api/http/oauth';

const RUNS = { numRuns: 300 };
const KEY_CHARS = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
const key = (length: number) => fc.string({ unit: KEY_CHARS, minLength: length, maxLength: length });

function storeWith(tokenKey: string, consumerKey: string, tokenSecret: string) {
  const lookups: string[] = [];
  const store: CredentialStore<string> = {
    findByTokenKey: (k) => {
      lookups.push(k);
      return Promise.resolve(k === tokenKey ? { consumerKey, tokenSecret, principal: 'alice' } : null);
    },
  };
  return { store, lookups };
}

const headerPieces = fc.array(
  fc.oneof(
    fc.constantFrom(
      'oauth_token',
      'oauth_consumer_key',
      'oauth_signature',
      'oauth_signature_method',
      'realm',
      ',',
      '=',
      '"',
      ' ',
      '%',
      '%00',
      '%0A',
      '%E0%A4',
      'PLAINTEXT',
      '&',
    ),
    fc.string({ maxLength: 8 }),
  ),
  { maxLength: 20 },
);

describe('OAuth header (property)', () => {
  it('any header gives a principal, null or a 401', async () => {
    const { store } = storeWith('tok', 'con', 'sec');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('OAuth ', 'oauth', 'OAuth realm="", ', 'Bearer ', ''),
        headerPieces,
        async (scheme, pieces) => {
          try {
            const principal = await authenticateOAuth(scheme + pieces.join(''), store);
            assert.ok(principal === null || principal === 'alice');
          } catch (err) {
            assert.ok(err instanceof ApiError, String(err));
            assert.equal(err.status, 401);
          }
        },
      ),
      RUNS,
    );
  });

  it('a control character in any decoded value is a 401 before any token lookup', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('oauth_token', 'oauth_consumer_key', 'oauth_signature', 'oauth_nonce', 'oauth_timestamp'),
        fc.integer({ min: 0, max: 32 }).map((c) => (c === 32 ? 127 : c)),
        fc.string({ unit: KEY_CHARS, maxLength: 6 }),
        async (field, code, around) => {
          const { store, lookups } = storeWith('tok', 'con', 'sec');
          const values: Record<string, string> = {
            oauth_signature_method: 'PLAINTEXT',
            oauth_consumer_key: 'con',
            oauth_token: 'tok',
            oauth_signature: '%26sec',
          };
          values[field] = `${around}%${code.toString(16).padStart(2, '0')}${around}`;
          const header = `OAuth ${Object.entries(values)
            .map(([k, v]) => `${k}="${v}"`)
            .join(', ')}`;
          await assert.rejects(
            authenticateOAuth(header, store),
            (err: unknown) => err instanceof ApiError && err.status === 401,
          );
          assert.deepEqual(lookups, []);
        },
      ),
      RUNS,
    );
  });

  it('a header built by oauthHeader parses back and authenticates, whatever the secret holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        key(18),
        key(18),
        // No ':' in the secret: an API key is three ':'-separated parts, as MAAS's CLI splits it
        // (a fourth part is refused, as the last case shows).
        fc
          .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
          .filter((s) => !hasAnyControl(s) && !s.includes(':')),
        async (consumer, token, secret) => {
          const header = oauthHeader(`${consumer}:${token}:${secret}`);
          const parsed = parseOAuthHeader(header);
          assert.equal(parsed.consumerKey, consumer);
          assert.equal(parsed.tokenKey, token);
          assert.equal(parsed.signature, `&${oauthEncode(secret)}`);
          const { store } = storeWith(token, consumer, secret);
          assert.equal(await authenticateOAuth(header, store), 'alice');
        },
      ),
      { numRuns: 150 },
    );
    assert.throws(() => oauthHeader('consumer:token:sec:ret'), /consumer_key:token_key:token_secret/);
  });
});
