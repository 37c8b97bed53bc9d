// Sends one fuzz case and judges the reply: no 5xx, no hang (client timeout), no cut-off body, no
// secret shown to someone who may not see it, and nothing written by a refused (4xx) request.
import { setTimeout as sleep } from 'node:timers/promises';
import { oauthHeader } from '../../../src/api/http';
import { fillWith, type FuzzAction } from './actions';
import { categoryOf, type CaseCategory, type FuzzCase } from './cases';
import { writtenTables, type Snapshot } from './db-state';
import type { FuzzWorld, PrincipalName } from './world';

export const REQUEST_TIMEOUT_MS = 10_000;
/** A write's workflow (claim, power on) has settled when nothing was written for this long. */
const QUIET_MS = 120;
const QUIET_MAX_MS = 5_000;

export type FailureKind = '5xx' | 'hang' | 'cut-off' | 'secret' | 'half-write';

export interface Failure {
  kind: FailureKind;
  principal: PrincipalName;
  method: string;
  template: string;
  op: string | null;
  param: string | null;
  category: CaseCategory;
  value: string;
  status: number | null;
  detail: string;
}

export interface Outcome {
  status: number | null;
  failures: Failure[];
  /** The request changed the database, so the world was settled and restored after it. */
  restored: boolean;
  /** Time spent waiting for the reply, and settling + restoring after a write. */
  requestMs: number;
  restoreMs: number;
}

interface Sent {
  status: number | null;
  text: string;
  headers: string;
  error?: FailureKind;
  errorDetail?: string;
}

function request(
  world: FuzzWorld,
  action: FuzzAction,
  c: FuzzCase,
  ids: string[][],
): { url: string; init: RequestInit } {
  const values = ids.map((list) => list[c.realIdIndex % list.length]!);
  const path = fillWith(action.template, values, c.hostilePathId?.raw);
  const query = new URLSearchParams();
  if (action.op) query.append('op', action.op);
  const form = new URLSearchParams();
  const into = action.method === 'GET' ? query : form;
  let body: string | undefined;
  const headers: Record<string, string> = {};
  const key = world.keys[c.principal];
  if (c.authorization) headers.Authorization = c.authorization.header;
  else if (key) headers.Authorization = oauthHeader(key);
  const d = c.value?.delivery;
  if (d?.kind === 'value') into.append(c.param!, d.value);
  else if (d?.kind === 'repeat') for (let i = 0; i < d.times; i++) into.append(c.param!, d.value);
  if (d?.kind === 'json') {
    body = d.body;
    headers['Content-Type'] = 'application/json';
  } else if (action.method !== 'GET') {
    body = form.toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  const qs = query.toString();
  return {
    url: `${world.api.base}${path}${qs ? `?${qs}` : ''}`,
    init: { method: action.method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
  };
}

async function send(url: string, init: RequestInit): Promise<Sent> {
  let r: Response;
  try {
    r = await fetch(url, init);
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError')
      return { status: null, text: '', headers: '', error: 'hang', errorDetail: 'no reply' };
    return { status: null, text: '', headers: '', error: 'cut-off', errorDetail: `connection failed: ${e.message}` };
  }
  const headers = [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  let text: string;
  try {
    text = await r.text();
  } catch (err) {
    const e = err as Error;
    const kind: FailureKind = e.name === 'TimeoutError' ? 'hang' : 'cut-off';
    return { status: r.status, text: '', headers, error: kind, errorDetail: `body not received: ${e.message}` };
  }
  if (/\bjson\b/.test(r.headers.get('content-type') ?? '')) {
    try {
      JSON.parse(text);
    } catch {
      return { status: r.status, text, headers, error: 'cut-off', errorDetail: `JSON announced, body does not parse` };
    }
  }
  return { status: r.status, text, headers };
}

const snippet = (text: string) => JSON.stringify(text.length > 160 ? `${text.slice(0, 160)}…` : text);

/** Waits until workflows a write started have settled (nothing written for QUIET_MS). */
async function settle(world: FuzzWorld, first: Snapshot): Promise<void> {
  let last = first;
  const deadline = Date.now() + QUIET_MAX_MS;
  for (;;) {
    await sleep(QUIET_MS);
    const next = await world.writes();
    if (sameSnapshot(next, last) || Date.now() > deadline) return;
    last = next;
  }
}

export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The write counts of the seeded world, as the last restore left it. */
export interface Baseline {
  writes: Snapshot;
}

async function resetWorld(world: FuzzWorld, baseline: Baseline, wrote: string[] | null): Promise<void> {
  // Only a write to a machine can have started a workflow.
  await world.restore({ workflows: wrote?.some((t) => t.startsWith('machines ')) ?? true });
  baseline.writes = await world.writes();
}

interface Attempt {
  outcome: Outcome;
  /** Tables the request (or a workflow it started) wrote, null when nothing was. */
  wrote: string[] | null;
  refused: boolean;
}

async function attempt(
  world: FuzzWorld,
  baseline: Baseline,
  fuzzAction: FuzzAction,
  c: FuzzCase,
  ids: string[][],
): Promise<Attempt> {
  const { url, init } = request(world, fuzzAction, c, ids);
  const t0 = performance.now();
  const sent = await send(url, init);
  const requestMs = performance.now() - t0;
  const failures: Failure[] = [];
  const fail = (kind: FailureKind, detail: string) =>
    failures.push({
      kind,
      principal: c.principal,
      method: fuzzAction.method,
      template: fuzzAction.template,
      op: fuzzAction.op,
      param: c.param,
      category: categoryOf(c),
      value: c.value?.label ?? c.hostilePathId?.label ?? c.authorization?.label ?? '',
      status: sent.status,
      detail,
    });
  if (sent.error) fail(sent.error, sent.errorDetail ?? '');
  if (sent.status !== null && sent.status >= 500) fail('5xx', snippet(sent.text));
  const seen = `${sent.headers}\n${sent.text}`;
  for (const s of world.secrets) {
    if (seen.includes(s.value) && !s.mayShow(c.principal, fuzzAction.op)) fail('secret', `${s.what} in the reply`);
  }
  const after = await world.writes();
  const wrote = sameSnapshot(after, baseline.writes) ? null : writtenTables(baseline.writes, after);
  const refused = sent.status !== null && sent.status >= 400 && sent.status < 500;
  if (wrote && refused) fail('half-write', `${snippet(sent.text)}; wrote ${wrote.join(', ')}`);
  return {
    outcome: { status: sent.status, failures, restored: wrote !== null, requestMs, restoreMs: 0 },
    wrote,
    refused,
  };
}

/**
 * Runs one case in the seeded world and leaves the world seeded again, restoring it when the
 * request (or a workflow it started) wrote anything. A refused request that wrote is tried once
 * more in a settled world, so a late write of an earlier request's workflow is never blamed on it:
 * only a request that writes both times is a half-write.
 */
export async function runCase(
  world: FuzzWorld,
  baseline: Baseline,
  fuzzAction: FuzzAction,
  c: FuzzCase,
  ids: string[][],
): Promise<Outcome> {
  const first = await attempt(world, baseline, fuzzAction, c, ids);
  if (!first.wrote) return first.outcome;
  const t1 = performance.now();
  await resetWorld(world, baseline, first.wrote);
  let outcome = first.outcome;
  if (first.refused) {
    await settle(world, baseline.writes);
    await resetWorld(world, baseline, null);
    const again = await attempt(world, baseline, fuzzAction, c, ids);
    if (again.wrote) await resetWorld(world, baseline, again.wrote);
    const confirmed = again.refused && again.wrote !== null;
    outcome = {
      ...first.outcome,
      failures: first.outcome.failures.filter((f) => f.kind !== 'half-write' || confirmed),
    };
  }
  return { ...outcome, restoreMs: performance.now() - t1 };
}
