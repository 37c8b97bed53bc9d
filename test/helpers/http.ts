// One way tests talk to the API: MAAS OAuth signing, form bodies with repeated keys, JSON or text back.
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
