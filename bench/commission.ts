// commission-1000: 1,000 machines with power_type=fake (fake_delay_ms=50) created through the API
// with commission=false, then `op=commission` for all of them; the clock runs from the first
// commission request until every machine is Ready (or the timeout). Region API, region worker
// and the FAKE rack are separate processes; their CPU and memory are read from /proc.
import { Client, Connection } from '@temporalio/client';
import { MachineStatus as S, labelOf, type MachineStatus } from '../src/contracts/lifecycle';
import { lifecycleWorkflowId, WorkflowType } from '../src/contracts/workflows';
import { startStack, type Role, type Stack } from '../test/helpers/stack';
import { parse, pool, timedCall } from './lib/client';
import { infraCpuSeconds, memoryOf, RssSampler, temporalPid, treeCpuSeconds } from './lib/proc';
import { connect, macFor, type Db } from './lib/seed';
import { ms, round, summarize } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const MACHINES = Number(process.env.METALFLOW_BENCH_COMMISSION_COUNT ?? 1000);
const FAKE_DELAY_MS = 50;
const CREATE_CONCURRENCY = 20;
const COMMISSION_CONCURRENCY = 50;
/** How long to wait for all machines to finish before recording what did. */
const TIMEOUT_S = Number(process.env.METALFLOW_BENCH_COMMISSION_TIMEOUT_S ?? 420);
const ROLES: Role[] = ['api', 'worker', 'rack'];
// metalflow's production defaults for the reconciler and the rack's power polling (the test
// stack's 2 s and 1 s would add load a real region does not have; METALFLOW_BENCH_RECONCILE_INTERVAL_S
// and METALFLOW_BENCH_POWER_POLL_S override, to measure what they cost), and MAAS's default node_timeout.
const RECONCILE_INTERVAL_S = process.env.METALFLOW_BENCH_RECONCILE_INTERVAL_S ?? '15';
const POWER_POLL_S = process.env.METALFLOW_BENCH_POWER_POLL_S ?? '15';
const ENV = {
  METALFLOW_RECONCILE_INTERVAL_SECONDS: RECONCILE_INTERVAL_S,
  METALFLOW_RECONCILE_GRACE_SECONDS: '30',
  METALFLOW_POWER_POLL_SECONDS: POWER_POLL_S,
};
const NODE_TIMEOUT_S = 1800;

export async function commission(log: Log): Promise<BenchOutcome> {
  const stack = await startStack({ nodeTimeoutSeconds: NODE_TIMEOUT_S, env: ENV });
  const db = await connect(stack.dbUrl);
  try {
    return await run(stack, db, log);
  } finally {
    await db.end();
    await stack.stop();
  }
}

async function run(stack: Stack, db: Db, log: Log): Promise<BenchOutcome> {
  const pids = Object.fromEntries(ROLES.map((r) => [r, stack.pid(r)!])) as Record<Role, number>;
  const violations: string[] = [];

  // 1. Create the machines (not part of the commissioning clock).
  const createStart = process.hrtime.bigint();
  const created = await pool(
    Array.from({ length: MACHINES }, (_, i) => i),
    CREATE_CONCURRENCY,
    async (i) => {
      const r = await timedCall(`${stack.apiUrl}/machines/`, 'POST', stack.adminKey, {
        hostname: `fake-${String(i).padStart(4, '0')}`,
        architecture: 'amd64',
        mac_addresses: macFor(i, 0),
        power_type: 'fake',
        power_parameters_fake_delay_ms: String(FAKE_DELAY_MS),
        commission: 'false',
      });
      if (r.status !== 200) throw new Error(`creating machine ${i}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
      return { ms: r.ms, systemId: parse<{ system_id: string }>(r).system_id };
    },
  );
  const createMs = ms(createStart);
  log(`commission-1000: created ${MACHINES} machines in ${round(createMs / 1000, 1)} s; commissioning them`);

  // 2. Commission them all; watch the database until none is Commissioning.
  const rssAtStart = Object.fromEntries(ROLES.map((r) => [r, memoryOf(pids[r])?.rssMiB]));
  const cpu0 = cpuNow(pids);
  const sampler = new RssSampler({ ...pids, temporal: temporalPid() }, 500).start();
  const t0 = await dbNow(db);
  const start = process.hrtime.bigint();
  const requests = pool(created, COMMISSION_CONCURRENCY, async (m) => {
    const r = await timedCall(`${stack.apiUrl}/machines/${m.systemId}/op-commission`, 'POST', stack.adminKey);
    return { status: r.status, ms: r.ms, text: r.status === 200 ? '' : r.text.slice(0, 300), at: ms(start) };
  });
  let issued = false;
  const answers = requests.finally(() => (issued = true));
  const progress: Array<{ s: number; counts: Record<string, number> }> = [];
  let lastReport = -Infinity;
  let timedOut = false;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const counts = await statusCounts(db);
    const elapsed = ms(start) / 1000;
    if (elapsed - lastReport >= 5) {
      progress.push({ s: round(elapsed), counts });
      lastReport = elapsed;
      log(
        `commission-1000: +${Math.round(elapsed)} s ${Object.entries(counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
    if (issued && !counts.Commissioning) break;
    if (elapsed > TIMEOUT_S) {
      timedOut = true;
      log(`commission-1000: timeout after ${TIMEOUT_S} s; recording what finished`);
      break;
    }
  }
  const commissionAnswers = await answers;
  const waitedMs = ms(start);
  const peaks = sampler.stop();
  const cpu1 = cpuNow(pids);
  const memory = Object.fromEntries(ROLES.map((r) => [r, memoryOf(pids[r])]));
  const finalCounts = await statusCounts(db);
  progress.push({ s: round(waitedMs / 1000), counts: finalCounts });

  // 3. What happened, from the database's events (the region's own clock).
  const timing = (
    await db.query(
      `WITH per AS (
       SELECT m.system_id, m.status,
              (SELECT min(created) FROM events e WHERE e.machine_id = m.id AND e.type = 'Commissioning') AS began,
              (SELECT max(created) FROM events e WHERE e.machine_id = m.id AND e.type = 'Ready') AS ready
         FROM machines m)
     SELECT system_id, status, extract(epoch FROM (began - $1::timestamptz)) * 1000 AS began_ms,
            extract(epoch FROM (ready - $1::timestamptz)) * 1000 AS ready_ms,
            extract(epoch FROM (ready - began)) * 1000 AS took_ms
       FROM per`,
      [t0],
    )
  ).rows as Array<{
    system_id: string;
    status: MachineStatus;
    began_ms: number | null;
    ready_ms: number | null;
    took_ms: number | null;
  }>;
  const ready = timing.filter((r) => r.status === S.READY && r.ready_ms !== null);
  const lastReadyMs = ready.length ? Math.max(...ready.map((r) => Number(r.ready_ms))) : NaN;
  const firstReadyMs = ready.length ? Math.min(...ready.map((r) => Number(r.ready_ms))) : NaN;

  // Correctness: what a Ready machine must look like, and no step recorded twice.
  const wrong = (
    await db.query(
      `SELECT m.system_id,
            m.commissioning_passed, m.hardware_info->>'system_vendor' AS vendor, m.power_state, m.workflow_id, m.cpu_count,
            (SELECT count(*)::int FROM events e WHERE e.machine_id = m.id AND e.description = 'Powering on to commission.') AS power_ons,
            (SELECT count(*)::int FROM events e WHERE e.machine_id = m.id AND e.type = 'Ready') AS readies
       FROM machines m WHERE m.status = $1`,
      [S.READY],
    )
  ).rows as Array<{
    system_id: string;
    commissioning_passed: boolean;
    vendor: string | null;
    power_state: string;
    workflow_id: string | null;
    cpu_count: number;
    power_ons: number;
    readies: number;
  }>;
  for (const m of wrong) {
    const bad = [
      !m.commissioning_passed && 'commissioning_passed is false',
      m.vendor !== 'metalflow' && `hardware vendor ${m.vendor}`,
      m.power_state !== 'off' && `power_state ${m.power_state}`,
      m.workflow_id !== null && `still claimed by ${m.workflow_id}`,
      m.power_ons !== 1 && `${m.power_ons} "Powering on" events`,
      m.readies !== 1 && `${m.readies} Ready events`,
    ].filter(Boolean);
    if (bad.length) violations.push(`${m.system_id} is Ready but ${bad.join(', ')}`);
  }
  const failures = (
    await db.query(
      `SELECT status, status_message, count(*)::int AS n FROM machines WHERE status NOT IN ($1, $2) GROUP BY 1, 2 ORDER BY n DESC LIMIT 10`,
      [S.READY, S.COMMISSIONING],
    )
  ).rows as Array<{ status: MachineStatus; status_message: string; n: number }>;
  const workflows = await temporalCounts(stack, created[0]?.systemId);

  const rejected = commissionAnswers.filter((a) => a.status !== 200);
  const cpu = Object.fromEntries(ROLES.map((r) => [r, round(cpu1[r] - cpu0[r], 2)]));
  const infra = {
    postgres: round(cpu1.postgres - cpu0.postgres, 2),
    temporal: round(cpu1.temporal - cpu0.temporal, 2),
  };
  const wallS = lastReadyMs / 1000;
  const complete = ready.length === MACHINES;
  const result = {
    benchmark: 'commission-1000',
    description: `${MACHINES} machines, power_type=fake (FAKE rack: simulated boot, real HTTP to the metadata server), fake_delay_ms=${FAKE_DELAY_MS}; created with commission=false, then op=commission (${COMMISSION_CONCURRENCY} requests in flight); the clock starts at the first commission request.`,
    machines: MACHINES,
    machines_note: MACHINES === 1000 ? undefined : `METALFLOW_BENCH_COMMISSION_COUNT=${MACHINES} was set`,
    settings: {
      fake_delay_ms: FAKE_DELAY_MS,
      node_timeout_s: NODE_TIMEOUT_S,
      reconcile_interval_s: Number(RECONCILE_INTERVAL_S),
      reconcile_grace_s: 30,
      power_poll_s: Number(POWER_POLL_S),
      timeout_s: TIMEOUT_S,
    },
    create: {
      wall_ms: round(createMs),
      per_second: round(MACHINES / (createMs / 1000), 1),
      latency_ms: summarize(created.map((c) => c.ms)),
    },
    commission_requests: {
      ok_200: commissionAnswers.length - rejected.length,
      rejected: rejected.length,
      rejected_examples: rejected.slice(0, 5).map((a) => `${a.status}: ${a.text}`),
      all_issued_ms: round(Math.max(...commissionAnswers.map((a) => a.at))),
      latency_ms: summarize(commissionAnswers.map((a) => a.ms)),
    },
    completed: complete,
    timed_out: timedOut,
    ready: ready.length,
    final_status_counts: finalCounts,
    not_ready_examples: failures.map((f) => ({
      status: labelOf(f.status),
      status_message: f.status_message,
      machines: f.n,
    })),
    wall_ms_to_last_ready: round(lastReadyMs),
    first_ready_ms: round(firstReadyMs),
    workflows_per_second: round(ready.length / wallS, 2),
    per_machine_ms: summarize(ready.map((r) => Number(r.took_ms))),
    temporal_commission_workflows: workflows,
    cpu_seconds: {
      ...cpu,
      ...infra,
      note: 'utime+stime during the commissioning phase, whole process trees; postgres and temporal = the servers this bench started',
    },
    cpu_seconds_per_machine: Object.fromEntries(
      Object.entries({ ...cpu, ...infra }).map(([k, v]) => [k, round(v / Math.max(1, ready.length), 4)]),
    ),
    rss_at_start_mib: rssAtStart,
    rss_peak_mib: peaks,
    vm_hwm_mib: Object.fromEntries(ROLES.map((r) => [r, memory[r]?.hwmMiB])),
    rss_after_mib: Object.fromEntries(ROLES.map((r) => [r, memory[r]?.rssMiB])),
    progress,
    violations,
  };
  log(
    `commission-1000: ${ready.length}/${MACHINES} Ready; last at ${round(wallS, 1)} s; ${result.workflows_per_second} workflows/s`,
  );
  return {
    name: 'commission-1000',
    ok: violations.length === 0,
    result,
    summary: [
      `${ready.length}/${MACHINES} Ready in ${round(wallS, 1)} s (${result.workflows_per_second} workflows/s; per machine p50 ${result.per_machine_ms.p50} ms, p99 ${result.per_machine_ms.p99} ms)${timedOut ? ` — TIMED OUT after ${TIMEOUT_S} s` : ''}`,
      `CPU s: api ${cpu.api}, worker ${cpu.worker}, rack ${cpu.rack}, postgres ${infra.postgres}, temporal ${infra.temporal}; peak RSS MiB: api ${peaks.api}, worker ${peaks.worker}, rack ${peaks.rack}`,
    ],
  };
}

function cpuNow(pids: Record<Role, number>): Record<Role | 'postgres' | 'temporal', number> {
  const own = Object.fromEntries(ROLES.map((r) => [r, treeCpuSeconds(pids[r])])) as Record<Role, number>;
  return { ...own, ...infraCpuSeconds(ROLES.map((r) => pids[r])) };
}

async function dbNow(db: Db): Promise<string> {
  const r = await db.query(`SELECT clock_timestamp()::text AS now`);
  return (r.rows[0] as { now: string }).now;
}

async function statusCounts(db: Db): Promise<Record<string, number>> {
  const rows = (await db.query(`SELECT status, count(*)::int AS n FROM machines GROUP BY status ORDER BY status`))
    .rows as Array<{ status: MachineStatus; n: number }>;
  return Object.fromEntries(rows.map((r) => [labelOf(r.status), r.n]));
}

/**
 * The commissioning workflows as Temporal sees them (visibility may lag a moment), and the size
 * of one machine's history: what each commissioning costs the Temporal server.
 */
async function temporalCounts(stack: Stack, sample: string | undefined): Promise<Record<string, unknown> | string> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const client = new Client({ connection, namespace: stack.namespace });
    const out: Record<string, unknown> = {};
    for (const status of ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut']) {
      out[status] = (
        await client.workflow.count(`WorkflowType = '${WorkflowType.commission}' AND ExecutionStatus = '${status}'`)
      ).count;
    }
    if (sample) {
      const history = await client.workflow.getHandle(lifecycleWorkflowId(sample)).fetchHistory();
      const events = history.events ?? [];
      type Event = (typeof events)[number];
      const count = (has: (e: Event) => unknown) => events.filter((e) => has(e)).length;
      out.sample_history = {
        workflow_id: lifecycleWorkflowId(sample),
        events: events.length,
        activities: count((e) => e.activityTaskScheduledEventAttributes),
        workflow_tasks: count((e) => e.workflowTaskCompletedEventAttributes),
        signals: count((e) => e.workflowExecutionSignaledEventAttributes),
        search_attribute_upserts: count((e) => e.upsertWorkflowSearchAttributesEventAttributes),
        // What each event is, in order (its attributes' name less "EventAttributes"): where a
        // change of the runbook shows.
        sequence: events.map((e) =>
          (Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof Event]) ?? '?').replace(
            /EventAttributes$/,
            '',
          ),
        ),
      };
    }
    return out;
  } catch (err) {
    return `could not count: ${(err as Error).message}`;
  } finally {
    await connection.close();
  }
}
