// tftp: throughput of the rack's TFTP server (src/rack/boot/tftp-server.ts, npm `tftp` inside)
// against Debian's tftpd-hpa and dnsmasq, in the same run, with the same client (curl, block
// size 1468, lock-step) on loopback in a private network namespace: one 64 MiB file, and 100
// concurrent 2 MiB files. Servers take turns (the order rotates each round) so a burst of load
// from elsewhere on the machine hits all of them alike; medians over the rounds. Every file is
// checked by SHA-256: only whole, correct files count.
import { type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stopChild } from '../test/helpers/bmc/peers';
import { treeCpuSeconds } from './lib/proc';
import { round } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';
import { curlFetch, sha256, type FetchResult, type ServedFile } from './tftp/client';
import { createNetns, type Netns } from './tftp/netns';
import { SERVERS, type TftpPeer } from './tftp/servers';

const BLKSIZE = 1468;
const ROUNDS = 5;
const BIG = 64 * 2 ** 20;
const SMALL = 2 * 2 ** 20;
const CONCURRENT = 100;
const TRANSFER_TIMEOUT_S = 60;

type Scenario = 'single_64mib' | 'concurrent_100x2mib';
interface Run {
  round: number;
  seconds: number;
  mb_per_s: number;
  server_cpu_seconds: number | null;
  failures: string[];
}

export async function tftp(log: Log): Promise<BenchOutcome> {
  for (const s of SERVERS) if (!fs.existsSync(s.binary)) throw new Error(`${s.name}: ${s.binary} is not installed`);
  // tmpfs: the disk stays out of the measurement (files are in the page cache either way).
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'mf-bench-tftp-'));
  const root = path.join(dir, 'root');
  const out = path.join(dir, 'out');
  fs.mkdirSync(root);
  fs.mkdirSync(out);
  // tftpd-hpa and dnsmasq serve as nobody.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(root, 0o755);
  let ns: Netns | undefined;
  try {
    const big = writeFile(root, 'big.bin', BIG);
    const small = Array.from({ length: CONCURRENT }, (_, i) =>
      writeFile(root, `c${String(i).padStart(3, '0')}.bin`, SMALL),
    );
    const probe = writeFile(root, 'probe.bin', 1000);
    ns = createNetns(`mf-bench-tftp-${process.pid}`);

    const runs: Record<string, Record<Scenario, Run[]>> = Object.fromEntries(
      SERVERS.map((s) => [s.name, { single_64mib: [], concurrent_100x2mib: [] }]),
    );
    for (let r = 1; r <= ROUNDS; r++) {
      const order = SERVERS.map((_, i) => SERVERS[(i + r - 1) % SERVERS.length]!);
      for (const server of order) {
        const proc = await startServer(ns, server, root, probe, out);
        try {
          const measure = async (scenario: Scenario, files: ServedFile[]) => {
            const cpu0 = treeCpuSeconds(proc.pid!);
            const got = await curlFetch(ns!, files, out, { blksize: BLKSIZE, timeoutS: TRANSFER_TIMEOUT_S });
            const cpu = proc.pid && !server.cpuUnreadable ? treeCpuSeconds(proc.pid) - cpu0 : NaN;
            const run = toRun(r, got, cpu);
            runs[server.name]![scenario].push(run);
            log(
              `tftp: round ${r} ${server.name} ${scenario}: ${run.mb_per_s} MB/s (${run.seconds} s)${run.failures.length ? `; FAILED: ${run.failures.slice(0, 3).join('; ')}` : ''}`,
            );
          };
          await measure('single_64mib', [big]);
          await measure('concurrent_100x2mib', small);
        } finally {
          await stopChild(proc);
        }
      }
    }
    return outcome(runs);
  } finally {
    ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function writeFile(root: string, name: string, size: number): ServedFile {
  const data = crypto.randomBytes(size);
  fs.writeFileSync(path.join(root, name), data, { mode: 0o644 });
  return { name, size, sha256: sha256(data) };
}

const toRun = (r: number, got: FetchResult, cpu: number): Run => ({
  round: r,
  seconds: round(got.seconds, 3),
  // MB = 10^6 bytes; verified bytes only.
  mb_per_s: round(got.verifiedBytes / 1e6 / got.seconds, 1),
  server_cpu_seconds: Number.isFinite(cpu) ? round(cpu, 2) : null,
  failures: got.failures,
});

/** Starts a server and waits until it hands out a file (up to 10 s). */
async function startServer(
  ns: Netns,
  server: TftpPeer,
  root: string,
  probe: ServedFile,
  out: string,
): Promise<ChildProcess> {
  const proc = server.start(ns, root);
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  proc.stdout?.resume();
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`${server.name} exited with ${proc.exitCode}: ${stderr.trim().slice(0, 500)}`);
    const got = await curlFetch(ns, [probe], out, { blksize: BLKSIZE, timeoutS: 2 });
    if (got.failures.length === 0) return proc;
    if (Date.now() > deadline) {
      await stopChild(proc);
      throw new Error(
        `${server.name} did not serve a file within 10 s: ${got.failures.join('; ')} ${stderr.trim().slice(0, 500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

interface ScenarioSummary {
  mb_per_s_median: number;
  server_cpu_seconds_median: number | null;
  failed_runs: number;
  runs: Run[];
}

function summarizeRuns(rs: Run[]): ScenarioSummary {
  const cpu = rs.map((r) => r.server_cpu_seconds).filter((c): c is number => c !== null);
  return {
    mb_per_s_median: median(rs.map((r) => r.mb_per_s)),
    server_cpu_seconds_median: cpu.length ? median(cpu) : null,
    failed_runs: rs.filter((r) => r.failures.length).length,
    runs: rs,
  };
}

function outcome(runs: Record<string, Record<Scenario, Run[]>>): BenchOutcome {
  const scenarios: Scenario[] = ['single_64mib', 'concurrent_100x2mib'];
  const servers: Record<string, Record<Scenario, ScenarioSummary>> = {};
  for (const [name, byScenario] of Object.entries(runs)) {
    servers[name] = {
      single_64mib: summarizeRuns(byScenario.single_64mib),
      concurrent_100x2mib: summarizeRuns(byScenario.concurrent_100x2mib),
    };
  }
  const mbs = (server: string, sc: Scenario) => servers[server]?.[sc].mb_per_s_median ?? NaN;
  const ratio = (sc: Scenario, peer: string) => round(mbs('metalflow', sc) / mbs(peer, sc), 2);
  const ratios = Object.fromEntries(
    scenarios.map((sc) => [
      sc,
      { 'metalflow/tftpd-hpa': ratio(sc, 'tftpd-hpa'), 'metalflow/dnsmasq': ratio(sc, 'dnsmasq') },
    ]),
  );
  // A correctness failure is metalflow losing or corrupting a file; the peers' failures are
  // recorded (they show in their throughput) but are not ours to fail on.
  const ok = scenarios.every((sc) => servers.metalflow?.[sc].failed_runs === 0);
  const line = (sc: Scenario, label: string) =>
    `${label}: metalflow ${mbs('metalflow', sc)} MB/s, tftpd-hpa ${mbs('tftpd-hpa', sc)} MB/s, dnsmasq ${mbs('dnsmasq', sc)} MB/s ` +
    `(metalflow/tftpd-hpa ${ratios[sc]!['metalflow/tftpd-hpa']}, metalflow/dnsmasq ${ratios[sc]!['metalflow/dnsmasq']})`;
  return {
    name: 'tftp',
    ok,
    result: {
      benchmark: 'tftp',
      client: `curl --tftp-blksize ${BLKSIZE} (lock-step: no windowsize), --parallel for the concurrent case`,
      network: 'loopback in a private network namespace, each server on 127.0.0.1:69 in turn',
      units: 'MB/s with MB = 10^6 bytes, verified (SHA-256) bytes only; medians over rounds',
      rounds: ROUNDS,
      server_cpu_unreadable: Object.fromEntries(
        SERVERS.filter((s) => s.cpuUnreadable).map((s) => [s.name, s.cpuUnreadable]),
      ),
      servers,
      ratios,
    },
    summary: [
      line('single_64mib', 'one 64 MiB file'),
      line('concurrent_100x2mib', `${CONCURRENT} concurrent 2 MiB files`),
    ],
  };
}
