// MAAS API authentication: OAuth 1.0a with the PLAINTEXT signature method. An API key is
// `consumer_key:token_key:token_secret`; the consumer secret is always empty, so a valid signature
// is "&" + token_secret (itself percent-encoded inside the header). There is nothing to sign, so
// nonces and timestamps carry no security and are not checked; TLS is what protects the secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { hasAnyControl } from './control-chars';
import { unauthorized } from './errors';

/** What the API needs from wherever tokens live. Owned here; the region implements it. */
export interface CredentialStore<P> {
  findByTokenKey(tokenKey: string): Promise<{ consumerKey: string; tokenSecret: string; principal: P } | null>;
}

export interface OAuthParams {
  consumerKey: string;
  tokenKey: string;
  /** Percent-decoded once (header encoding removed): normally "&" + percent-encoded token secret. */
  signature: string;
  signatureMethod: string;
  nonce?: string;
  timestamp?: string;
}

/**
 * The principal named by the request's Authorization header; null when there is no OAuth header
 * (anonymous). Throws 401 for a malformed header, an unknown token or a wrong signature: a client
 * that tried to authenticate and failed must not be silently treated as anonymous.
 */
export async function authenticateOAuth<P>(
  authorization: string | undefined,
  store: CredentialStore<P>,
): Promise<P | null> {
  if (authorization === undefined || !/^oauth(\s|$)/i.test(authorization.trim())) return null;
  const oauth = parseOAuthHeader(authorization);
  const credentials = await store.findByTokenKey(oauth.tokenKey);
  if (!credentials) throw unauthorized('Authorization Error: Invalid access token.');
  if (!secretsEqual(oauth.consumerKey, credentials.consumerKey))
    throw unauthorized('Authorization Error: Invalid API key.');
  if (!signatureMatches(oauth.signature, credentials.tokenSecret))
    throw unauthorized('Authorization Error: Invalid signature.');
  return credentials.principal;
}

/** The router's `authenticate` hook over a credential store. */
export function oauthAuthenticator<P>(store: CredentialStore<P>): (ctx: Koa.Context) => Promise<P | null> {
  return (ctx) => authenticateOAuth(ctx.get('Authorization') || undefined, store);
}

/** Parses `OAuth realm="", oauth_consumer_key="…", …`; throws 401 naming what is wrong. */
export function parseOAuthHeader(header: string): OAuthParams {
  const match = /^\s*oauth\s*(.*)$/is.exec(header);
  if (!match) throw unauthorized('Authorization Error: the Authorization header is not OAuth.');
  const text = match[1] ?? '';
  const pair = /([^\s=,]+)\s*=\s*(?:"([^"]*)"|([^\s,"]*))/g;
  // Whatever is not a key=value pair must be separators only.
  if (text.replace(pair, '').replace(/[\s,]/g, '') !== '')
    throw unauthorized('Authorization Error: malformed OAuth header.');
  const values = new Map<string, string>();
  for (const m of text.matchAll(pair)) {
    const key = percentDecode(m[1] ?? '');
    if (values.has(key)) throw unauthorized(`Authorization Error: ${key} appears twice in the OAuth header.`);
    values.set(key, percentDecode(m[2] ?? m[3] ?? ''));
  }
  const required = (name: string): string => {
    const value = values.get(name);
    if (!value) throw unauthorized(`Authorization Error: the OAuth header lacks ${name}.`);
    return value;
  };
  const signatureMethod = required('oauth_signature_method');
  if (signatureMethod.toUpperCase() !== 'PLAINTEXT') {
    throw unauthorized(
      `Authorization Error: unsupported signature method ${signatureMethod}; MAAS API keys use PLAINTEXT.`,
    );
  }
  return {
    consumerKey: required('oauth_consumer_key'),
    tokenKey: required('oauth_token'),
    signature: required('oauth_signature'),
    signatureMethod,
    nonce: values.get('oauth_nonce'),
    timestamp: values.get('oauth_timestamp'),
  };
}

/** PLAINTEXT: "consumer_secret&token_secret", each percent-encoded; the consumer secret is empty. */
function signatureMatches(signature: string, tokenSecret: string): boolean {
  const amp = signature.indexOf('&');
  if (amp < 0) return false;
  let consumerSecret: string;
  let presented: string;
  try {
    consumerSecret = decodeURIComponent(signature.slice(0, amp));
    presented = decodeURIComponent(signature.slice(amp + 1));
  } catch {
    return false;
  }
  // Evaluate both comparisons so the time taken does not say which part was wrong.
  const consumerOk = consumerSecret === '';
  const tokenOk = secretsEqual(presented, tokenSecret);
  return consumerOk && tokenOk;
}

/** Constant-time equality: hashing first gives timingSafeEqual equal lengths and hides the length. */
function secretsEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function percentDecode(value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw unauthorized('Authorization Error: malformed percent-encoding in the OAuth header.');
  }
  // Keys, tokens and secrets are printable; a NUL would otherwise travel on to the token lookup.
  if (hasAnyControl(decoded)) throw unauthorized('Authorization Error: control characters in the OAuth header.');
  return decoded;
}

/** RFC 3986 / RFC 5849 §3.6 encoding: encodeURIComponent leaves !'()* alone, OAuth does not. */
export function oauthEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Client side: the Authorization header for a MAAS API key `consumer_key:token_key:token_secret`. */
export function oauthHeader(apiKey: string, options: { nonce?: string; timestamp?: number } = {}): string {
  const parts = apiKey.split(':');
  const [consumerKey, tokenKey, tokenSecret] = parts;
  if (parts.length !== 3 || !consumerKey || !tokenKey || tokenSecret === undefined) {
    throw new Error('A MAAS API key has the form consumer_key:token_key:token_secret.');
  }
  const fields: Array<[string, string]> = [
    ['oauth_version', '1.0'],
    ['oauth_signature_method', 'PLAINTEXT'],
    ['oauth_consumer_key', consumerKey],
    ['oauth_token', tokenKey],
    ['oauth_signature', `&${oauthEncode(tokenSecret)}`],
    ['oauth_nonce', options.nonce ?? randomBytes(16).toString('hex')],
    ['oauth_timestamp', String(options.timestamp ?? Math.floor(Date.now() / 1000))],
  ];
  return `OAuth realm="", ${fields.map(([k, v]) => `${k}="${oauthEncode(v)}"`).join(', ')}`;
}
