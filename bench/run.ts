// `npm run bench [-- name…]`: starts a real PostgreSQL and Temporal dev server (as `npm test`
// does), runs each benchmark against metalflow as separate processes (test/helpers/stack.ts), and
// writes bench/results/<name>.json plus summary.json. Benchmarks measure and record; the exit
// code is non-zero only when a correctness check failed or a benchmark could not run.
import { allocate, allocateAtScale } from './allocate';
import { commission } from './commission';
import { commissionReal } from './commission-real';
import { deploy } from './deploy';
import { deployRealBios, deployRealUefi } from './deploy-real';
import { dhcp } from './dhcp';
import { dns } from './dns';
import { image } from './image';
import { startBenchInfra } from './lib/infra';
import { cpuSecondsOf, foreignCpuMeter } from './lib/proc';
import { environment, RESULTS_DIR, writeResult } from './lib/results';
import { round } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';
import { listMachines } from './list';
import { powerQuery } from './power';
import { reconcilePass } from './reconcile';
import { tftp } from './tftp';
import { uiList } from './ui-list';
import { whoamiUnderAbuse } from './whoami-under-abuse';
import { writeReadme } from './write-readme';

const BENCHMARKS: Record<string, (log: Log) => Promise<BenchOutcome>> = {
  'list-machines': listMachines,
  allocate,
  'allocate-10k': allocateAtScale,
  'commission-1000': commission,
  dhcp,
  tftp,
  'power-query': powerQuery,
  image,
  deploy,
  'whoami-under-abuse': whoamiUnderAbuse,
  dns,
  'deploy-real-bios': deployRealBios,
  'deploy-real-uefi': deployRealUefi,
  'commission-real': commissionReal,
  'ui-list': uiList,
  'reconcile-pass': reconcilePass,
};

const started = Date.now();
const log: Log = (line) => console.error(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHMARKS[w]);
  if (unknown.length)
    throw new Error(`Unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(BENCHMARKS);
  // Taken once, before any metalflow process loads the code: what was measured.
  const env = environment();
  const infra = await startBenchInfra(log);
  const outcomes: Array<BenchOutcome & { error?: string; seconds: number; quiet?: boolean; otherCpu?: number }> = [];
  try {
    for (const name of names) {
      log(`${name}: starting`);
      const t = Date.now();
      const cpu0 = cpuSecondsOf(process.pid) ?? 0;
      const foreign = foreignCpuMeter();
      try {
        const outcome = await BENCHMARKS[name]!(log);
        const seconds = round((Date.now() - t) / 1000);
        const benchCpu = round((cpuSecondsOf(process.pid) ?? 0) - cpu0, 2);
        const machine = foreign();
        const quiet = machine.other_processes_cpu_seconds < 0.05 * seconds;
        if (!quiet)
          log(
            `${name}: NOTE other processes used ${machine.other_processes_cpu_seconds} CPU-s meanwhile; these numbers are disturbed`,
          );
        writeResult(name, {
          ...outcome.result,
          ok: outcome.ok,
          // bench/README.md's table shows these for a bench it has no row for.
          summary: outcome.summary,
          bench_seconds: seconds,
          load_generator_cpu_seconds: benchCpu,
          machine_load: {
            ...machine,
            quiet,
            note: 'CPU used by processes outside this bench (e.g. a test run) while it ran; quiet = under 5% of one CPU',
          },
          environment: env,
        });
        outcomes.push({ ...outcome, seconds, quiet, otherCpu: machine.other_processes_cpu_seconds });
        log(`${name}: ${outcome.ok ? 'done' : 'CORRECTNESS VIOLATION'} in ${seconds} s`);
      } catch (err) {
        const message = (err as Error).stack ?? String(err);
        log(`${name}: FAILED: ${message}`);
        const seconds = round((Date.now() - t) / 1000);
        writeResult(name, { benchmark: name, ok: false, error: message, bench_seconds: seconds, environment: env });
        outcomes.push({
          name,
          ok: false,
          result: {},
          summary: [`failed: ${(err as Error).message}`],
          error: message,
          seconds,
        });
      }
    }
  } finally {
    await infra.stop();
  }
  const summary = {
    ok: outcomes.every((o) => o.ok),
    total_seconds: round((Date.now() - started) / 1000),
    infrastructure: { postgres: infra.postgres, temporal: infra.temporal },
    environment: env,
    benchmarks: Object.fromEntries(
      outcomes.map((o) => [
        o.name,
        {
          ok: o.ok,
          seconds: o.seconds,
          summary: o.summary,
          machine_quiet: o.quiet,
          other_processes_cpu_seconds: o.otherCpu,
          ...(o.error ? { error: o.error } : {}),
        },
      ]),
    ),
  };
  writeResult('summary', summary);
  // The README's table follows the results, so it never shows numbers nobody measured.
  log(`wrote ${writeReadme()}`);
  console.log(
    `\nmetalflow benchmarks (${env.cpus as number} CPUs, ${env.memory_gib as number} GiB; results in ${RESULTS_DIR})`,
  );
  for (const o of outcomes) {
    console.log(
      `${o.ok ? 'ok  ' : 'FAIL'} ${o.name} (${o.seconds} s)${o.quiet === false ? ` [disturbed: other processes used ${o.otherCpu} CPU-s meanwhile]` : ''}`,
    );
    for (const line of o.summary) console.log(`       ${line}`);
  }
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
