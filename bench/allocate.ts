// allocate: 100 READY machines, 200 concurrent `POST machines/op-allocate` from 10 users (each
// with its own API key). Exactly 100 must succeed (200) and 100 be refused (409); no machine may
// be handed out twice; the database must show each machine Allocated to the user who got it.
// Three rounds (the machines are put back to READY between them) for steadier numbers.
import { MachineStatus as S } from '../src/contracts/lifecycle';
import { startStack, type Stack } from '../test/helpers/stack';
import { parse, timedCall, type Timed } from './lib/client';
import { cpuSecondsOf, memoryOf, RssSampler } from './lib/proc';
import { connect, createUsers, ensureNamed, insertMachines, type Db, type SeededUser } from './lib/seed';
import { ms, round, summarize } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const MACHINES = 100;
const REQUESTS = 200;
const USERS = 10;
const ROUNDS = 5;

interface Answer extends Timed {
  user: SeededUser;
  /** When the answer arrived, ms after the round started. */
  at: number;
}

export async function allocate(log: Log): Promise<BenchOutcome> {
  const stack = await startStack({ roles: ['api'] });
  const db = await connect(stack.dbUrl);
  try {
    return await run(stack, db, log);
  } finally {
    await db.end();
    await stack.stop();
  }
}

async function run(stack: Stack, db: Db, log: Log): Promise<BenchOutcome> {
  const apiPid = stack.pid('api')!;
  const users = await createUsers(db, Array.from({ length: USERS }, (_, i) => `alloc${i}`));
  const zone = (await ensureNamed(db, 'zones', ['default'])).get('default')!;
  const pool = (await ensureNamed(db, 'resource_pools', ['default'])).get('default')!;
  await insertMachines(db, Array.from({ length: MACHINES }, (_, i) => ({
    hostname: `alloc-${i}`, status: S.READY, ownerId: null, zoneId: zone, poolId: pool, rackId: null, tagIds: [], index: i,
  })));
  const url = `${stack.apiUrl}/machines/op-allocate`;
  // Warm-up: each user's key once, through the same code path, allocating nothing.
  for (const u of users) {
    const r = await timedCall(url, 'POST', u.apiKey, { dry_run: 'true' });
    if (r.status !== 200) throw new Error(`warm-up dry_run allocation answered ${r.status}: ${r.text.slice(0, 300)}`);
  }

  const rounds = [];
  const violations: string[] = [];
  for (let round_ = 1; round_ <= ROUNDS; round_++) {
    if (round_ > 1) {
      await db.query(`UPDATE machines SET status = $1, owner_id = NULL, agent_name = '', updated = now()`, [S.READY]);
      await db.query(`DELETE FROM events WHERE type <> 'New'`);
    }
    const cpu0 = cpuSecondsOf(apiPid) ?? NaN;
    const sampler = new RssSampler({ api: apiPid }, 25).start();
    const start = process.hrtime.bigint();
    const answers: Answer[] = await Promise.all(Array.from({ length: REQUESTS }, async (_, i) => {
      const user = users[i % USERS]!;
      const r = await timedCall(url, 'POST', user.apiKey);
      return { ...r, user, at: ms(start) };
    }));
    const wallMs = ms(start);
    const peak = sampler.stop();
    const cpu = (cpuSecondsOf(apiPid) ?? NaN) - cpu0;
    const problems = await verify(db, answers);
    violations.push(...problems.map((p) => `round ${round_}: ${p}`));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 409);
    const lastSuccessMs = Math.max(...ok.map((a) => a.at));
    const r = {
      round: round_,
      ok_200: ok.length,
      conflict_409: refused.length,
      other_statuses: Object.fromEntries(countBy(answers.filter((a) => a.status !== 200 && a.status !== 409).map((a) => String(a.status)))),
      wall_ms: round(wallMs),
      last_allocation_ms: round(lastSuccessMs),
      allocations_per_second: round(ok.length / (lastSuccessMs / 1000), 1),
      requests_per_second: round(REQUESTS / (wallMs / 1000), 1),
      latency_ms_all: summarize(answers.map((a) => a.ms)),
      latency_ms_200: summarize(ok.map((a) => a.ms)),
      latency_ms_409: summarize(refused.map((a) => a.ms)),
      api_cpu_seconds: round(cpu, 3),
      api_rss_peak_mib: peak.api,
      violations: problems,
    };
    log(`allocate: round ${round_}: ${ok.length}×200 ${refused.length}×409 in ${r.wall_ms} ms, ${r.allocations_per_second} allocations/s, p50 ${r.latency_ms_200.p50} ms p99 ${r.latency_ms_200.p99} ms${problems.length ? `; VIOLATIONS: ${problems.join('; ')}` : ''}`);
    rounds.push(r);
  }
  const mem = memoryOf(apiPid);
  const median = (xs: number[]) => summarize(xs).p50;
  const result = {
    benchmark: 'allocate',
    description: `${REQUESTS} concurrent POST /MAAS/api/2.0/machines/op-allocate (no constraints) from ${USERS} users, ${MACHINES} READY machines; ${ROUNDS} rounds, machines reset to READY between rounds.`,
    machines: MACHINES,
    requests: REQUESTS,
    users: USERS,
    rounds,
    median_of_rounds: {
      allocations_per_second: median(rounds.map((r) => r.allocations_per_second)),
      latency_ms_200_p50: median(rounds.map((r) => r.latency_ms_200.p50)),
      latency_ms_200_p99: median(rounds.map((r) => r.latency_ms_200.p99)),
      latency_ms_409_p50: median(rounds.map((r) => r.latency_ms_409.p50)),
      wall_ms: median(rounds.map((r) => r.wall_ms)),
    },
    api_rss_mib: mem,
    violations,
  };
  const m = result.median_of_rounds;
  return {
    name: 'allocate',
    ok: violations.length === 0,
    result,
    summary: [
      `${REQUESTS} concurrent over ${MACHINES} machines: ${rounds.map((r) => `${r.ok_200}×200/${r.conflict_409}×409`).join(', ')}; no double allocation: ${violations.length === 0 ? 'yes' : 'NO'}`,
      `${m.allocations_per_second} allocations/s, 200s p50 ${m.latency_ms_200_p50} ms p99 ${m.latency_ms_200_p99} ms, 409s p50 ${m.latency_ms_409_p50} ms (median of ${ROUNDS} rounds)`,
    ],
  };
}

/** Every correctness rule of a round; returns what was broken. */
async function verify(db: Db, answers: Answer[]): Promise<string[]> {
  const problems: string[] = [];
  const ok = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status === 409);
  if (ok.length !== MACHINES) problems.push(`${ok.length} allocations succeeded, expected ${MACHINES}`);
  if (refused.length !== REQUESTS - MACHINES) problems.push(`${refused.length} were refused with 409, expected ${REQUESTS - MACHINES}`);
  const others = answers.filter((a) => a.status !== 200 && a.status !== 409);
  if (others.length) problems.push(`${others.length} answered neither 200 nor 409, e.g. ${others[0]!.status}: ${others[0]!.text.slice(0, 200)}`);

  const handedTo = new Map<string, string[]>();
  for (const a of ok) {
    const body = parse<{ system_id: string; owner: string | null; status_name: string }>(a);
    handedTo.set(body.system_id, [...(handedTo.get(body.system_id) ?? []), a.user.username]);
    if (body.owner !== a.user.username) problems.push(`${body.system_id} was answered with owner ${body.owner}, not the caller ${a.user.username}`);
    if (body.status_name !== 'Allocated') problems.push(`${body.system_id} was answered with status ${body.status_name}`);
  }
  for (const [systemId, who] of handedTo) if (who.length > 1) problems.push(`${systemId} handed out ${who.length} times (${who.join(', ')})`);
  for (const a of refused) {
    if (!/No machine available|No available machine/.test(a.text)) problems.push(`a 409 said "${a.text.slice(0, 120)}"`);
  }

  const rows = (await db.query(
    `SELECT m.system_id, m.status, u.username,
            (SELECT count(*)::int FROM events e WHERE e.machine_id = m.id AND e.type = 'Allocated') AS allocated_events
       FROM machines m LEFT JOIN users u ON u.id = m.owner_id`,
  )).rows as Array<{ system_id: string; status: number; username: string | null; allocated_events: number }>;
  for (const r of rows) {
    const who = handedTo.get(r.system_id);
    if (!who) {
      if (r.status !== S.READY || r.username !== null) problems.push(`${r.system_id} is status ${r.status} owned by ${r.username} but no caller was told so`);
      continue;
    }
    if (r.status !== S.ALLOCATED) problems.push(`${r.system_id} is status ${r.status} in the database, not Allocated`);
    if (r.username !== who[0]) problems.push(`${r.system_id} belongs to ${r.username} in the database, but was handed to ${who.join(', ')}`);
    if (r.allocated_events !== 1) problems.push(`${r.system_id} has ${r.allocated_events} Allocated events`);
  }
  return problems;
}

function countBy(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
