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
  const users = await createUsers(
    db,
    Array.from({ length: USERS }, (_, i) => `alloc${i}`),
  );
  const zone = (await ensureNamed(db, 'zones', ['default'])).get('default')!;
  const pool = (await ensureNamed(db, 'resource_pools', ['default'])).get('default')!;
  await insertMachines(
    db,
    Array.from({ length: MACHINES }, (_, i) => ({
      hostname: `alloc-${i}`,
      status: S.READY,
      ownerId: null,
      zoneId: zone,
      poolId: pool,
      rackId: null,
      tagIds: [],
      index: i,
    })),
  );
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
    const answers: Answer[] = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const user = users[i % USERS]!;
        const r = await timedCall(url, 'POST', user.apiKey);
        return { ...r, user, at: ms(start) };
      }),
    );
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
      other_statuses: Object.fromEntries(
        countBy(answers.filter((a) => a.status !== 200 && a.status !== 409).map((a) => String(a.status))),
      ),
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
    log(
      `allocate: round ${round_}: ${ok.length}×200 ${refused.length}×409 in ${r.wall_ms} ms, ${r.allocations_per_second} allocations/s, p50 ${r.latency_ms_200.p50} ms p99 ${r.latency_ms_200.p99} ms${problems.length ? `; VIOLATIONS: ${problems.join('; ')}` : ''}`,
    );
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
  if (refused.length !== REQUESTS - MACHINES)
    problems.push(`${refused.length} were refused with 409, expected ${REQUESTS - MACHINES}`);
  const others = answers.filter((a) => a.status !== 200 && a.status !== 409);
  if (others.length)
    problems.push(
      `${others.length} answered neither 200 nor 409, e.g. ${others[0]!.status}: ${others[0]!.text.slice(0, 200)}`,
    );

  const handedTo = new Map<string, string[]>();
  for (const a of ok) {
    const body = parse<{ system_id: string; owner: string | null; status_name: string }>(a);
    handedTo.set(body.system_id, [...(handedTo.get(body.system_id) ?? []), a.user.username]);
    if (body.owner !== a.user.username)
      problems.push(`${body.system_id} was answered with owner ${body.owner}, not the caller ${a.user.username}`);
    if (body.status_name !== 'Allocated')
      problems.push(`${body.system_id} was answered with status ${body.status_name}`);
  }
  for (const [systemId, who] of handedTo)
    if (who.length > 1) problems.push(`${systemId} handed out ${who.length} times (${who.join(', ')})`);
  for (const a of refused) {
    if (!/No machine available|No available machine/.test(a.text))
      problems.push(`a 409 said "${a.text.slice(0, 120)}"`);
  }

  const rows = (
    await db.query(
      `SELECT m.system_id, m.status, u.username,
            (SELECT count(*)::int FROM events e WHERE e.machine_id = m.id AND e.type = 'Allocated') AS allocated_events
       FROM machines m LEFT JOIN users u ON u.id = m.owner_id
      -- The controllers (rack, region) are machines too: DEPLOYED, owned by nobody, never allocatable.
      WHERE NOT (m.workload_annotations ? 'controller')`,
    )
  ).rows as Array<{ system_id: string; status: number; username: string | null; allocated_events: number }>;
  for (const r of rows) {
    const who = handedTo.get(r.system_id);
    if (!who) {
      if (r.status !== S.READY || r.username !== null)
        problems.push(`${r.system_id} is status ${r.status} owned by ${r.username} but no caller was told so`);
      continue;
    }
    if (r.status !== S.ALLOCATED) problems.push(`${r.system_id} is status ${r.status} in the database, not Allocated`);
    if (r.username !== who[0])
      problems.push(`${r.system_id} belongs to ${r.username} in the database, but was handed to ${who.join(', ')}`);
    if (r.allocated_events !== 1) problems.push(`${r.system_id} has ${r.allocated_events} Allocated events`);
  }
  return problems;
}

function countBy(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

const SCALE_MACHINES = 10_000;
const SCALE_READY = 2_000;
const SCALE_REQUESTS = 1_000;
const SCALE_USERS = 20;

/**
 * allocate-10k: 10,000 machines (2,000 READY, the rest deployed by tenants), 1,000 concurrent
 * allocations with constraints (cpu_count, mem, tags, zone/not_in_zone, storage) from 20 users; 500
 * READY machines are reserved for a 5-user group. Checks: none handed out twice, every answer meets
 * its constraints and its caller's reservations.
 */
export async function allocateAtScale(log: Log): Promise<BenchOutcome> {
  const stack = await startStack({ roles: ['api'] });
  const db = await connect(stack.dbUrl);
  try {
    const apiPid = stack.pid('api')!;
    const users = await createUsers(
      db,
      Array.from({ length: SCALE_USERS }, (_, i) => `scale${i}`),
    );
    const zones = [...(await ensureNamed(db, 'zones', ['default', 'az1', 'az2', 'az3'])).values()];
    const pool = (await ensureNamed(db, 'resource_pools', ['default'])).get('default')!;
    const tags = await ensureNamed(db, 'tags', ['gpu', 'ssd']);
    await insertMachines(
      db,
      Array.from({ length: SCALE_MACHINES }, (_, i) => ({
        hostname: `scale-${i}`,
        status: i < SCALE_READY ? S.READY : S.DEPLOYED,
        ownerId: i < SCALE_READY ? null : users[i % SCALE_USERS]!.id,
        zoneId: zones[i % zones.length]!,
        poolId: pool,
        rackId: null,
        tagIds: i % 10 === 0 ? [tags.get('gpu')!] : i % 3 === 0 ? [tags.get('ssd')!] : [],
        index: i,
      })),
    );
    const group: Array<{ id: number }> = (
      await db.query(`INSERT INTO user_groups (name) VALUES ('scale-team') RETURNING id`)
    ).rows;
    for (const u of users.slice(0, 5))
      await db.query(`INSERT INTO user_group_members (group_id, user_id) VALUES ($1, $2)`, [group[0]!.id, u.id]);
    await db.query(
      `UPDATE machines SET reserved_group_id = $1 WHERE id IN (SELECT id FROM machines WHERE status = $2 ORDER BY id LIMIT 500)`,
      [group[0]!.id, S.READY],
    );
    const forms: Array<Record<string, string>> = [
      { cpu_count: '16' },
      { mem: '65536' },
      { tags: 'gpu' },
      { zone: 'az1', cpu_count: '8' },
      { not_in_zone: 'az3', mem: '32768' },
      { storage: 'root:400,data:3000' },
    ];
    const url = `${stack.apiUrl}/machines/op-allocate`;
    for (const u of users) await timedCall(url, 'POST', u.apiKey, { dry_run: 'true' });
    const cpu0 = cpuSecondsOf(apiPid) ?? NaN;
    const start = process.hrtime.bigint();
    const answers = await Promise.all(
      Array.from({ length: SCALE_REQUESTS }, async (_, i) => {
        const user = users[i % SCALE_USERS]!;
        const form = forms[i % forms.length]!;
        return { user, form, ...(await timedCall(url, 'POST', user.apiKey, form)), at: ms(start) };
      }),
    );
    const wallMs = ms(start);
    const cpu = (cpuSecondsOf(apiPid) ?? NaN) - cpu0;
    const ok = answers.filter((a) => a.status === 200);
    const violations: string[] = [];
    const seen = new Set<string>();
    const others = answers.filter((a) => a.status !== 200 && a.status !== 409);
    if (others.length)
      violations.push(
        `${others.length} answered neither 200 nor 409, e.g. ${others[0]!.status}: ${others[0]!.text.slice(0, 200)}`,
      );
    const facts = new Map(
      (
        (
          await db.query(
            `SELECT m.system_id, m.cpu_count, m.memory, z.name AS zone, m.reserved_group_id,
              ARRAY(SELECT t.name FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id) AS tags
         FROM machines m JOIN zones z ON z.id = m.zone_id WHERE m.status = $1`,
            [S.ALLOCATED],
          )
        ).rows as Array<{
          system_id: string;
          cpu_count: number;
          memory: number;
          zone: string;
          reserved_group_id: number | null;
          tags: string[];
        }>
      ).map((r) => [r.system_id, r]),
    );
    for (const a of ok) {
      const id = parse<{ system_id: string }>(a).system_id;
      if (seen.has(id)) violations.push(`${id} handed out twice`);
      seen.add(id);
      const f = facts.get(id);
      if (!f) {
        violations.push(`${id} is not Allocated in the database`);
        continue;
      }
      if (f.reserved_group_id !== null && users.indexOf(a.user) >= 5)
        violations.push(`${id} reserved for the team went to ${a.user.username}`);
      if (a.form.cpu_count && f.cpu_count < Number(a.form.cpu_count))
        violations.push(`${id}: cpu_count ${f.cpu_count}`);
      if (a.form.mem && f.memory < Number(a.form.mem)) violations.push(`${id}: memory ${f.memory}`);
      if (a.form.tags && !f.tags.includes(a.form.tags)) violations.push(`${id}: no tag ${a.form.tags}`);
      if (a.form.zone && f.zone !== a.form.zone) violations.push(`${id}: zone ${f.zone}`);
      if (a.form.not_in_zone && f.zone === a.form.not_in_zone) violations.push(`${id}: in zone ${f.zone}`);
    }
    const lastSuccessMs = Math.max(...ok.map((a) => a.at));
    const result = {
      benchmark: 'allocate-10k',
      description: `${SCALE_REQUESTS} concurrent POST machines/op-allocate with constraints (${forms.map((f) => new URLSearchParams(f).toString()).join(' | ')}) from ${SCALE_USERS} users; ${SCALE_MACHINES} machines, ${SCALE_READY} READY (500 reserved for a 5-user group).`,
      ok_200: ok.length,
      conflict_409: answers.filter((a) => a.status === 409).length,
      wall_ms: round(wallMs),
      allocations_per_second: round(ok.length / (lastSuccessMs / 1000), 1),
      requests_per_second: round(SCALE_REQUESTS / (wallMs / 1000), 1),
      latency_ms_200: summarize(ok.map((a) => a.ms)),
      latency_ms_409: summarize(answers.filter((a) => a.status === 409).map((a) => a.ms)),
      api_cpu_seconds: round(cpu, 3),
      violations,
    };
    log(
      `allocate-10k: ${result.ok_200}×200 ${result.conflict_409}×409 in ${result.wall_ms} ms, ${result.allocations_per_second} allocations/s, p50 ${result.latency_ms_200.p50} ms p99 ${result.latency_ms_200.p99} ms${violations.length ? `; VIOLATIONS: ${violations.slice(0, 5).join('; ')}` : ''}`,
    );
    return {
      name: 'allocate-10k',
      ok: violations.length === 0,
      result,
      summary: [
        `${SCALE_REQUESTS} concurrent constrained allocations at ${SCALE_MACHINES} machines: ${result.ok_200}×200/${result.conflict_409}×409, ${result.allocations_per_second} allocations/s, 200s p50 ${result.latency_ms_200.p50} ms p99 ${result.latency_ms_200.p99} ms; violations: ${violations.length}`,
      ],
    };
  } finally {
    await db.end();
    await stack.stop();
  }
}
