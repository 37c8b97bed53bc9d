// The rack side of the power bench, in a process of its own so /proc says exactly what the rack
// spends: it runs the poller's code path (pollOnce: bounded concurrency, the real drivers, one
// report per round) against an in-memory region (the region's HTTP round trips are not part of
// the measurement). Reads {configs, concurrency, rounds} on stdin; writes the figures on stdout.
// CPU: utime + stime of this process, plus cutime + cstime, i.e. the ipmitool children it reaped.
import fs from 'node:fs';
import type { PowerConfig } from '../../src/contracts/rack-api';
import { pollOnce } from '../../src/rack/power/poller';
import { createPowerRegistry } from '../../src/rack/power/registry';

interface Job {
  configs: PowerConfig[];
  concurrency: number;
  rounds: number;
}

function cpu(): { own: number; children: number } {
  const text = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const hz = 100; // USER_HZ: 100 on Linux
  return { own: (f[11]! + f[12]!) / hz, children: (f[13]! + f[14]!) / hz };
}

async function main(): Promise<void> {
  const job = JSON.parse(fs.readFileSync(0, 'utf8')) as Job;
  const byId = new Map(job.configs.map((c) => [c.systemId, c]));
  const registry = createPowerRegistry(() => undefined);
  const latencies: number[] = [];
  // Time each query where the poller calls it: the driver's whole query, retries included.
  const timed = {
    get: (powerType: string) => {
      const d = registry.get(powerType);
      return Object.assign(Object.create(d) as typeof d, {
        query: async (cfg: PowerConfig, signal: AbortSignal) => {
          const t = process.hrtime.bigint();
          try {
            return await d.query(cfg, signal);
          } finally {
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
          }
        },
      });
    },
  };
  const counts: Record<string, number> = {};
  const opts = {
    region: {
      powerTargets: async () => ({ systemIds: [...byId.keys()] }),
      powerConfig: async (id: string) => byId.get(id)!,
      reportPowerStates: async (_rack: string, report: { states: Record<string, string> }) => {
        for (const s of Object.values(report.states)) counts[s] = (counts[s] ?? 0) + 1;
      },
    },
    drivers: timed,
    rackSystemId: () => 'bench-rack',
    everyMs: 0,
    concurrency: job.concurrency,
    queryTimeoutMs: 30_000,
    log: () => undefined,
  };
  const signal = new AbortController().signal;
  const roundSeconds: number[] = [];
  const c0 = cpu();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < job.rounds; r++) {
    const t = process.hrtime.bigint();
    await pollOnce(opts, signal);
    roundSeconds.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = cpu();
  await registry.close();
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      roundSeconds,
      latencies,
      states: counts,
      cpu: { rack_own: c1.own - c0.own, ipmitool_children: c1.children - c0.children },
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
