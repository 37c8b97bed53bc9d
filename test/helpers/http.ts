// One way tests talk to the API: MAAS OAuth signing, form bodies with repeated keys, JSON or text back.
import crypto from 'node:crypto';
import { oauthHeader } from '../../src/api/http';

export interface CallOptions {
  key?: string | null;
  form?: Record<string, string | string[]>;
  body?: RequestInit['body'];
  headers?: Record<string, string>;
}
export interface CallResult {
  status: number;
  body: unknown;
  text: string;
}

export function formBody(form: Record<string, string | string[]>): URLSearchParams {
  return new URLSearchParams(
    Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x])),
  );
}

export async function signedCall(url: string, method: string, o: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.key) headers.Authorization = oauthHeader(o.key);
  const r = await fetch(url, { method, headers, body: o.form ? formBody(o.form) : o.body });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a plain-text answer
  }
  return { status: r.status, body, text };
}

/**
 * The Authorization header Debian's cloud-init (OauthUrlHelper: oauthlib, PLAINTEXT, no realm)
 * sends with a machine's token `consumer_key:token_key:token_secret`: what the metadata server
 * must take from a real deployed OS.
 */
export function cloudInitOAuth(token: string): string {
  const [ck, tk, ts] = token.split(':') as [string, string, string];
  const nonce = crypto.randomInt(1e9, 1e10).toString();
  return (
    `OAuth oauth_nonce="${nonce}", oauth_timestamp="${Math.floor(Date.now() / 1000)}", oauth_version="1.0", ` +
    `oauth_signature_method="PLAINTEXT", oauth_consumer_key="${ck}", oauth_token="${tk}", oauth_signature="%26${ts}"`
  );
}
