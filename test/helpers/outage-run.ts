// The dependency-restart scenario (issue 18): many fake machines commission, then deploy, and in
// the middle of each phase a dependency goes down and comes back. While it is down the API must
// answer 503 with Retry-After and a plain reason (no hang, no 500) and change nothing; afterwards
// every machine must end in the right status, none stuck, and no step may record its event twice.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createFakeMachines,
  duplicateEvents,
  eventLog,
  settle,
  startOperation,
  type Operation,
  type Tally,
} from './fleet';
import type { Cluster } from './region-cluster';

export interface OutageRun {
  cluster: Cluster;
  dbUrl: string;
  /** e.g. "PostgreSQL restart" */
  fault: string;
  machines: number;
  down(): Promise<void>;
  up(): Promise<void>;
  /** How the 503's body names the missing dependency. */
  reason: RegExp;
}

/** How long the dependency stays down: long enough for retries to pile up and time out. */
const OUTAGE_MS = 8000;

/** Asserts the outcomes; returns the events recorded more than once per operation (for the caller to assert). */
export async function runThroughOutages(o: OutageRun): Promise<string[]> {
  const ids = await createFakeMachines(o.cluster, 'fleet', o.machines, 500);
  // One machine per phase that the outage's request tries to commission: afterwards it is New, or,
  // when the 503 said the commission was recorded, it commissions. One per phase, because the
  // first phase's spare may still be Commissioning during the second outage (and refused with 400).
  const spares = await createFakeMachines(o.cluster, 'spare', 2);
  const recorded: string[] = [];
  const untouched: string[] = [];
  const tallies: Tally[] = [];
  for (const [phase, op] of (['commission', 'deploy'] as Operation[]).entries()) {
    const spare = spares[phase]!;
    // Mid-way: the dependency goes down once half the machines are started, so that power-on
    // activities, netboots and reports are in flight (their replies and completions lost), however
    // fast this machine runs them. The other half's requests wait out the outage (the client
    // retries a 503) or were recorded by it.
    let halfway!: () => void;
    const halfStarted = new Promise<void>((r) => (halfway = r));
    const starting = (async () => {
      for (const [i, id] of ids.entries()) {
        await startOperation(o.cluster, id, op);
        if (i + 1 >= ids.length / 2) halfway();
      }
    })();
    // A start that fails ends the wait (and the run, below) rather than leaving it waiting.
    await Promise.race([halfStarted, starting]);
    await o.down();
    try {
      await sleep(1000);
      ((await assertRefusedCleanly(o, spare)) ? recorded : untouched).push(spare);
      await sleep(OUTAGE_MS);
    } finally {
      await o.up();
    }
    await starting;
    tallies.push(await settle(o.cluster, `${o.fault}: ${op}`, ids, op, 300_000));
    // Every machine starts the phase off. A power-on that finds one on is a retry of one whose
    // completion (or heartbeat) the outage lost: it must leave the netbooting machine be, not
    // reset it into a second boot (which reports again).
    const rackLog = o.cluster.logs('rack');
    const poweredOn = [...rackLog.matchAll(/power on (\S+) \(fake, was (on|off)\)/g)];
    // The rack's words for a power-on, checked to be there: a changed log line must not pass for none cycled.
    assert.ok(poweredOn.length >= ids.length, `${o.fault}: ${op}: the rack logged ${poweredOn.length} power-ons`);
    const cycled = poweredOn.filter((m) => m[2] === 'on').map((m) => m[1]);
    assert.deepEqual(cycled, [], `${o.fault}: ${op}: machines cycled by a retried power-on`);
    // The region's API, workers and reconciler and the rack rode the outage out: nothing restarted them.
    for (const name of ['region-0', 'rack'])
      assert.ok(o.cluster.running(name), `${name} exited during the outage:\n${o.cluster.logs(name).slice(-3000)}`);
  }
  if (recorded.length) {
    // Temporal away after the commit: the 503 said the commission was recorded, and the
    // reconciler starts its workflow (issue 17 item 3): the spare commissions like the rest.
    const spareTally = await settle(o.cluster, `${o.fault}: the recorded commission`, recorded, 'commission', 300_000);
    assert.deepEqual([...spareTally.stuck, ...spareTally.failed], [], 'the recorded commission finished');
  }
  for (const spare of untouched) {
    const spareNow = (await o.cluster.call('GET', `/machines/${spare}/`)).body as { status_name: string };
    assert.equal(spareNow.status_name, 'New', `${spare}: the refused commission changed nothing`);
  }

  for (const t of tallies) {
    const details = await Promise.all(
      t.failed.map(async (f) => `${f.systemId} ${f.reason}\n  ${(await eventLog(o.dbUrl, f.systemId)).join('\n  ')}`),
    );
    assert.deepEqual(t.stuck, [], `${t.label}: nothing stuck`);
    assert.equal(t.failed.length, 0, `${t.label}:\n${details.join('\n')}`);
  }
  const repeats = await duplicateEvents(o.dbUrl, ids, tallies.length);
  console.log(
    `[outcomes] ${o.fault}: events recorded twice ${repeats.length}${repeats.length ? ` (${repeats.join('; ')})` : ''}`,
  );
  return repeats;
}

/**
 * During the outage: a read and a write both get 503 + Retry-After + a plain reason, promptly.
 * True when the write's 503 says what it changed (the commission recorded, its workflow owed).
 */
async function assertRefusedCleanly(o: OutageRun, spare: string): Promise<boolean> {
  let recorded = false;
  for (const [method, path] of [
    ['GET', `/machines/${spare}/`],
    ['POST', `/machines/${spare}/op-commission`],
  ] as const) {
    const started = Date.now();
    // callRegion's own timeout (60 s) turns a hang into a failure here.
    const r = await o.cluster.callRegion(0, method, path).catch((err: Error) => {
      const state = o.cluster.running('region-0') ? 'still running' : 'exited';
      throw new Error(`${err.message}; region-0 ${state}:\n${o.cluster.logs('region-0').slice(-4000)}`, { cause: err });
    });
    const ms = Date.now() - started;
    console.log(`[outcomes] ${o.fault}: ${method} ${path} during the outage: ${r.status} after ${ms} ms`);
    if (method === 'GET' && r.status === 200) continue; // a read that needs only the live dependency
    assert.equal(r.status, 503, `${method} ${path}: ${r.status} ${r.text}`);
    assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After says when to try again');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(r.text, o.reason);
    if (method === 'POST') recorded = /This request was recorded: machine \S+ is Commissioning/.test(r.text);
  }
  return recorded;
}
