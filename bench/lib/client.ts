// Timed, OAuth-signed MAAS API calls. The clock stops when the last byte of the body has arrived;
// parsing the JSON happens after, so it is not charged to the server.
import { oauthHeader } from '../../src/api/http';
import { formBody } from '../../test/helpers/http';
import { ms } from './stats';

export interface Timed {
  status: number;
  /** Request sent → whole body received. */
  ms: number;
  /** Request sent → response headers received. */
  ttfbMs: number;
  bytes: number;
  text: string;
}

/** `key` null: an anonymous request. */
export async function timedCall(
  url: string,
  method: string,
  key: string | null,
  form?: Record<string, string | string[]>,
): Promise<Timed> {
  const start = process.hrtime.bigint();
  const r = await fetch(url, {
    method,
    headers: key ? { Authorization: oauthHeader(key) } : {},
    body: form ? formBody(form) : undefined,
  });
  const ttfbMs = ms(start);
  const body = Buffer.from(await r.arrayBuffer());
  const total = ms(start);
  return { status: r.status, ms: total, ttfbMs, bytes: body.length, text: body.toString('utf8') };
}

export function parse<T>(t: Timed): T {
  try {
    return JSON.parse(t.text) as T;
  } catch {
    throw new Error(`Expected JSON (HTTP ${t.status}): ${t.text.slice(0, 300)}`);
  }
}

/** Runs `task` for each item with at most `limit` in flight; results in input order. */
export async function pool<I, O>(
  items: readonly I[],
  limit: number,
  task: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export type Drained = Omit<Timed, 'text'>;

/**
 * timedCall for a reply only timed and counted, as `curl -o /dev/null` reads it: each piece is
 * dropped as it arrives. Reading a 59 MiB listing whole (one contiguous copy, then a string)
 * costs the bench's own process tens of ms and a large-object GC that lands in the next timing;
 * a measured run then says more about the bench than about the API.
 */
export async function timedDrain(url: string, key: string | null): Promise<Drained> {
  const start = process.hrtime.bigint();
  const r = await fetch(url, { headers: key ? { Authorization: oauthHeader(key) } : {} });
  const ttfbMs = ms(start);
  let bytes = 0;
  for await (const piece of r.body ?? []) bytes += (piece as Uint8Array).length;
  return { status: r.status, ms: ms(start), ttfbMs, bytes };
}
