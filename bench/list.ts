// list-machines: 10,000 machines (inserted with SQL), `GET /MAAS/api/2.0/machines/` as an admin
// (sees all) and as a user who may see 100 (the rest are owned by other users); latency, bytes,
// the API process's memory and CPU, and where the time goes (measured in this process on the
// same database: the queries, the presenter, JSON.stringify).
import { MachineStatus as S, type MachineStatus } from '../src/contracts/lifecycle';
import { presentMachine } from '../src/api/presenters/machine';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../src/region/db/data-source';
import { MachineEntity, UserEntity } from '../src/region/db/entities';
import type { Principal } from '../src/region/services/principal';
import { MachineQueries } from '../src/region/services/machine-queries';
import { domainRefs, listedMachines } from '../src/region/services/machine-listing-versions';
import { MachineListingEncoder, PresentedMachineCache } from '../src/api/presenters/machine-listing-cache';
import { clientReadingFloor } from './lib/client-floor';
import { type Stack } from '../test/helpers/stack';
import { withApiStack } from './lib/api-stack';
import { parse, timedCall, timedDrain, type Drained } from './lib/client';
import { Prober } from './lib/probe';
import { cpuProfiling, cpuProfilingRequested, type CpuProfiling } from './lib/cpu-profile';
import { cpuSecondsOf, memoryOf, RssSampler } from './lib/proc';
import { connect, createRack, createUsers, ensureNamed, insertMachines, type MachineSpec } from './lib/seed';
import { ms, round, summarize } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const MACHINES = 10_000;
const VISIBLE_TO_USER = 100;
const RUNS = 30;
const WARMUP = 3;
const TENANTS = 20;
const CONCURRENT = 4;
const CONCURRENT_ROUNDS = 3;

interface MachineJson {
  system_id: string;
  owner: string | null;
}

export async function listMachines(log: Log): Promise<BenchOutcome> {
  // METALFLOW_BENCH_CPU_PROF=1: the API runs under --cpu-prof (slower: not the bench's figures).
  const profiling = cpuProfilingRequested() ? cpuProfiling() : undefined;
  return withApiStack((stack) => run(stack, log, profiling), profiling?.nodeArgs);
}

async function run(stack: Stack, log: Log, profiling?: CpuProfiling): Promise<BenchOutcome> {
  try {
    return await measureAll(stack, log, profiling);
  } catch (err) {
    // A listing cut off (fetch failed) says nothing of why: the API's last lines do.
    const cause = (err as Error).cause as { message?: string; code?: string } | undefined;
    const why = cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : '';
    throw new Error(`${(err as Error).message}${why}; the API's log ends:\n${stack.logs('api').slice(-3000)}`, {
      cause: err,
    });
  }
}

async function measureAll(stack: Stack, log: Log, profiling?: CpuProfiling): Promise<BenchOutcome> {
  const apiPid = stack.pid('api')!;
  const idle = memoryOf(apiPid);
  const db = await connect(stack.dbUrl);
  const violations: string[] = [];
  let seedMs: number;
  let viewerKey: string;
  let viewerName: string;
  let controllers: number;
  try {
    // The region registers itself as a machine (locked, unowned): every listing includes it.
    controllers = Number((await db.query(`SELECT count(*) AS n FROM machines`)).rows[0].n);
    const t = process.hrtime.bigint();
    const [viewer] = await createUsers(db, ['viewer']);
    const tenants = await createUsers(
      db,
      Array.from({ length: TENANTS }, (_, i) => `tenant${i}`),
    );
    viewerKey = viewer!.apiKey;
    viewerName = viewer!.username;
    const zones = [...(await ensureNamed(db, 'zones', ['default', 'az1', 'az2', 'az3'])).values()];
    const pools = [...(await ensureNamed(db, 'resource_pools', ['default', 'compute', 'storage'])).values()];
    const tags = [
      ...(
        await ensureNamed(db, 'tags', ['virtual', 'gpu', 'ssd', 'nvme', 'rack-a', 'rack-b', 'rack-c', '10g'])
      ).values(),
    ];
    const rackId = await createRack(db, 'rack-bench');
    const specs: MachineSpec[] = Array.from({ length: MACHINES }, (_, i) => {
      // The user sees 100: 60 unowned READY machines and 40 of their own. Every other machine
      // belongs to one of the tenants, mostly deployed, as in a busy MAAS.
      let status: MachineStatus;
      let ownerId: number | null;
      if (i < 60) [status, ownerId] = [S.READY, null];
      else if (i < VISIBLE_TO_USER) [status, ownerId] = [i % 4 === 0 ? S.ALLOCATED : S.DEPLOYED, viewer!.id];
      else {
        const r = i % 20;
        status = r < 16 ? S.DEPLOYED : r < 18 ? S.ALLOCATED : r < 19 ? S.BROKEN : S.FAILED_DEPLOYMENT;
        ownerId = tenants[i % TENANTS]!.id;
      }
      return {
        hostname: `node-${String(i).padStart(5, '0')}`,
        status,
        ownerId,
        zoneId: zones[i % zones.length]!,
        poolId: pools[i % pools.length]!,
        rackId,
        tagIds: [tags[i % tags.length]!, tags[(i + 3) % tags.length]!],
        index: i,
      };
    });
    await insertMachines(db, specs);
    seedMs = ms(t);
    log(`list-machines: inserted ${MACHINES} machines (${round(seedMs / 1000, 2)} s)`);
  } finally {
    await db.end();
  }

  const url = `${stack.apiUrl}/machines/`;
  const measure = async (who: string, key: string, expectCount: number, check: (m: MachineJson[]) => void) => {
    const first = await timedCall(url, 'GET', key);
    const body = parse<MachineJson[]>(first);
    if (first.status !== 200) throw new Error(`${who}: HTTP ${first.status}: ${first.text.slice(0, 300)}`);
    if (body.length !== expectCount) violations.push(`${who} saw ${body.length} machines, expected ${expectCount}`);
    check(body);
    for (let i = 1; i < WARMUP; i++) {
      const warm = await timedDrain(url, key);
      if (warm.status !== 200) violations.push(`${who}: warm-up ${i} answered HTTP ${warm.status}`);
    }
    const before = memoryOf(apiPid);
    const cpu0 = cpuSecondsOf(apiPid) ?? NaN;
    const sampler = new RssSampler({ api: apiPid }, 50).start();
    const runs: Drained[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await timedDrain(url, key);
      if (r.status !== 200) violations.push(`${who}: run ${i} answered HTTP ${r.status}`);
      runs.push(r);
    }
    const peak = sampler.stop();
    const after = memoryOf(apiPid);
    const cpu = (cpuSecondsOf(apiPid) ?? NaN) - cpu0;
    const latency = summarize(runs.map((r) => r.ms));
    log(
      `list-machines: ${who}: ${expectCount} machines, p50 ${latency.p50} ms, p99 ${latency.p99} ms, ${(runs[0]!.bytes / 2 ** 20).toFixed(2)} MiB, API RSS peak ${peak.api} MiB`,
    );
    return {
      machines_returned: body.length,
      runs: RUNS,
      warmup_runs: WARMUP,
      latency_ms: latency,
      time_to_first_byte_ms: summarize(runs.map((r) => r.ttfbMs)),
      response_bytes: runs[0]!.bytes,
      bytes_per_machine: Math.round(runs[0]!.bytes / Math.max(1, body.length)),
      api_cpu_seconds_per_request: round(cpu / RUNS, 3),
      api_rss_mib: { before: before?.rssMiB, peak_sampled: peak.api, after: after?.rssMiB, vm_hwm: after?.hwmMiB },
    };
  };

  const admin = await measure('admin', stack.adminKey, MACHINES + controllers, () => undefined);
  const user = await measure('user', viewerKey, VISIBLE_TO_USER + controllers, (machines) => {
    const foreign = machines.filter((m) => m.owner !== null && m.owner !== viewerName);
    if (foreign.length)
      violations.push(`the user saw ${foreign.length} machines owned by others (e.g. ${foreign[0]!.system_id})`);
  });
  const blocking = await probeDuringListing(stack, url, violations);
  log(
    `list-machines: GET version/ while an admin listing runs: p50 ${blocking.during_admin_listing_ms.p50} ms max ${blocking.during_admin_listing_ms.max} ms (idle p50 ${blocking.idle_ms.p50} ms)`,
  );
  const concurrent = await concurrentAdmins(url, stack.adminKey, apiPid, violations);
  log(
    `list-machines: ${CONCURRENT} concurrent admin listings: p50 ${concurrent.latency_ms.p50} ms, API RSS peak ${concurrent.api_rss_peak_mib} MiB`,
  );
  const breakdown = await whereTimeGoes(stack);
  const cachedPath = await whereCachedTimeGoes(stack);
  const clientFloor = await clientReadingFloor(admin.response_bytes);
  const cpuProfile = profiling ? await profiling.collect(stack, 'api', 'list-machines-api') : undefined;
  if (cpuProfile) log(`list-machines: the API's CPU profile is ${cpuProfile}`);

  const result = {
    benchmark: 'list-machines',
    description: `GET /MAAS/api/2.0/machines/ with ${MACHINES} machines in the database (2 NICs, 2 tags, zone, pool, hardware info, 2 disks each); sequential requests over a kept-alive connection; the measured runs read each reply as curl -o /dev/null does (counted, dropped as it arrives), the first is parsed and checked. The API streams the listing in chunks of 500.`,
    machines_in_database: MACHINES,
    seed_ms: round(seedMs),
    api_rss_mib_idle_before_seeding: idle?.rssMiB,
    admin,
    user_seeing_100: user,
    [`admin_${CONCURRENT}_concurrent`]: concurrent,
    other_requests_during_admin_listing: blocking,
    breakdown_in_bench_process_ms: breakdown,
    cached_path_in_bench_process_ms: cachedPath,
    client_reading_floor_ms: clientFloor,
    ...(cpuProfile
      ? { api_cpu_profile: cpuProfile, note: 'profiled run (--cpu-prof): slower than the real figures' }
      : {}),
    violations,
  };
  return {
    name: 'list-machines',
    ok: violations.length === 0,
    result,
    summary: [
      `admin (10,000): p50 ${admin.latency_ms.p50} ms, p99 ${admin.latency_ms.p99} ms, ${(admin.response_bytes / 2 ** 20).toFixed(1)} MiB/response, API RSS peak ${admin.api_rss_mib.peak_sampled} MiB`,
      `${CONCURRENT} admins at once: p50 ${concurrent.latency_ms.p50} ms, API RSS peak ${concurrent.api_rss_peak_mib} MiB`,
      `user (100):     p50 ${user.latency_ms.p50} ms, p99 ${user.latency_ms.p99} ms, ${(user.response_bytes / 1024).toFixed(0)} KiB/response`,
    ],
  };
}

/**
 * Whether one big listing holds up everyone else: a trivial request (anonymous GET version/, no
 * database) sent back to back from a thread of its own, from just before an admin listing starts until
 * it ends, against the same when idle.
 */
async function probeDuringListing(stack: Stack, url: string, violations: string[]) {
  const prober = await Prober.start(`${stack.apiUrl}/version/`);
  try {
    const idle = await prober.times(20);
    const during: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { result, times } = await prober.during(() => timedDrain(url, stack.adminKey));
      // A listing that failed fast says nothing of what a listing does to others: its probes are left out.
      if (result.status !== 200) violations.push(`the listing beside the probe answered HTTP ${result.status}`);
      else during.push(...times);
    }
    return {
      probe:
        'anonymous GET /MAAS/api/2.0/version/ (no database), back to back from a thread of its own (warmed up, probing before each listing starts) while an admin listing of 10,000 runs (5 listings)',
      idle_ms: summarize(idle),
      during_admin_listing_ms: summarize(during),
    };
  } finally {
    await prober.close();
  }
}

/** What several admins listing at once cost: each response is built whole in memory. */
async function concurrentAdmins(url: string, key: string, apiPid: number, violations: string[]) {
  const sampler = new RssSampler({ api: apiPid }, 50).start();
  const start = process.hrtime.bigint();
  const times: number[] = [];
  for (let r = 0; r < CONCURRENT_ROUNDS; r++) {
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, () => timedDrain(url, key)));
    for (const a of answers) {
      if (a.status !== 200) violations.push(`concurrent admin listing answered HTTP ${a.status}`);
      times.push(a.ms);
    }
  }
  const wall = ms(start);
  const peak = sampler.stop();
  return {
    concurrent: CONCURRENT,
    rounds: CONCURRENT_ROUNDS,
    latency_ms: summarize(times),
    listings_per_second: round((CONCURRENT * CONCURRENT_ROUNDS) / (wall / 1000), 2),
    api_rss_peak_mib: peak.api,
    api_vm_hwm_mib: memoryOf(apiPid)?.hwmMiB,
  };
}

/** The admin's principal and the listing's queries over `ds`, as the API's process has them. */
async function asAdmin(ds: DataSource): Promise<{ admin: Principal; queries: MachineQueries }> {
  const user = await ds.getRepository(UserEntity).findOneByOrFail({ username: 'admin' });
  return { admin: { kind: 'user', user }, queries: new MachineQueries(ds) };
}

/**
 * The admin listing's parts, timed in this process against the same database and code path the
 * API uses (machine-queries' chunks of 500, the presenter, JSON.stringify per machine): reading
 * (the ids query + 4 statements and TypeORM hydration per chunk; the machines statement's share
 * also alone), presenting and serialising, with the bare pg driver reading the machines table for
 * comparison. Sums over all chunks; medians of 5 listings.
 */
async function whereTimeGoes(stack: Stack): Promise<Record<string, number>> {
  const ds = await openDatabase(stack.dbUrl, { migrate: false, poolSize: 4 });
  try {
    const { admin, queries } = await asAdmin(ds);
    const present = { temporalUiUrl: null, temporalNamespace: stack.namespace };
    const parts = {
      total: [] as number[],
      read_chunks: [] as number[],
      of_which_machines_statement_typeorm_getMany: [] as number[],
      present: [] as number[],
      stringify: [] as number[],
      for_comparison_pg_select_star_machines: [] as number[],
    };
    for (let i = 0; i < 5; i++) {
      const sums = { read: 0, present: 0, stringify: 0 };
      const begin = process.hrtime.bigint();
      const chunks = queries.chunks(admin)[Symbol.asyncIterator]();
      const ids: number[] = [];
      for (;;) {
        let t = process.hrtime.bigint();
        const next = await chunks.next();
        sums.read += ms(t);
        if (next.done) break;
        ids.push(...next.value.map((v) => v.machine.id));
        t = process.hrtime.bigint();
        const body = next.value.map((v) => presentMachine(v, present));
        sums.present += ms(t);
        t = process.hrtime.bigint();
        void body.map((item) => JSON.stringify(item)).join(',');
        sums.stringify += ms(t);
      }
      parts.total.push(ms(begin));
      parts.read_chunks.push(sums.read);
      parts.present.push(sums.present);
      parts.stringify.push(sums.stringify);
      let t = process.hrtime.bigint();
      for (let k = 0; k < ids.length; k += 500) {
        await ds
          .getRepository(MachineEntity)
          .createQueryBuilder('m')
          .where('m.id = ANY(:ids)', { ids: ids.slice(k, k + 500) })
          .orderBy('m.id')
          .getMany();
      }
      parts.of_which_machines_statement_typeorm_getMany.push(ms(t));
      t = process.hrtime.bigint();
      await ds.query(`SELECT * FROM machines ORDER BY id`);
      parts.for_comparison_pg_select_star_machines.push(ms(t));
    }
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, summarize(v).p50]));
  } finally {
    await ds.destroy();
  }
}

/**
 * The listing as the API makes it now (issue 17, after the cache), timed in this process: the
 * versions query (PostgreSQL computes every machine's version), the domains, and a warm pass
 * (every machine kept) of the chunks and their encoding; medians of 5 listings after one cold one.
 */
async function whereCachedTimeGoes(stack: Stack): Promise<Record<string, number>> {
  const ds = await openDatabase(stack.dbUrl, { migrate: false, poolSize: 4 });
  try {
    const { admin, queries } = await asAdmin(ds);
    const cache = new PresentedMachineCache();
    const present = { temporalUiUrl: null, temporalNamespace: stack.namespace };
    const parts = {
      versions_query: [] as number[],
      domains_query: [] as number[],
      warm_listing_encoded: [] as number[],
    };
    const warm = async () => {
      const encoder = new MachineListingEncoder(cache, present);
      let bytes = 0;
      for await (const chunk of queries.versionedChunks(admin, {}, { known: encoder.known }))
        for (const m of chunk.machines)
          for (const b of encoder.encode(m, chunk.views.get(m.id), chunk.domains)) bytes += b.length;
      return bytes;
    };
    await warm();
    for (let i = 0; i < 5; i++) {
      let t = process.hrtime.bigint();
      const listed = await listedMachines(ds.manager, 'TRUE', []);
      parts.versions_query.push(ms(t));
      t = process.hrtime.bigint();
      await domainRefs(ds.manager, [...listed.domains]);
      parts.domains_query.push(ms(t));
      t = process.hrtime.bigint();
      await warm();
      parts.warm_listing_encoded.push(ms(t));
    }
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, summarize(v).p50]));
  } finally {
    await ds.destroy();
  }
}
