// power-query: how many BMC power queries per second the rack's poller does over 500 BMCs, and
// what each costs the rack in CPU. The poller's own code path (pollOnce: bounded concurrency,
// the real ipmi and redfish drivers) runs in a child process (bench/power/poller-child.ts) whose
// /proc/self/stat gives its CPU, ipmitool children included (cutime + cstime).
// Peers: IPMI is real ipmi_sim (openipmi) driven by real ipmitool; 500 BMC configs point at
// IPMI_SIMS ipmi_sim instances (one UDP port each), so each simulator serves several "BMCs".
// Redfish is a small node:http BMC (bench/power/redfish-peer.ts) listening on 500 ports, one
// system per port, Basic auth or sessions: sushy-emulator cannot run 500 systems cheaply.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { PowerConfig } from '../src/contracts/rack-api';
import { startIpmiSim, type IpmiSim } from '../test/helpers/bmc/ipmi-sim';
import { stopChild } from '../test/helpers/bmc/peers';
import { treeCpuSeconds } from './lib/proc';
import { round, summarize } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const BMCS = 500;
const IPMI_SIMS = 25;
const CONCURRENCY = [10, 50];
const ROUNDS: Record<string, number> = { ipmi: 1, redfish: 10 };
const here = path.resolve(__dirname, 'power');

interface ChildResult {
  seconds: number;
  roundSeconds: number[];
  latencies: number[];
  states: Record<string, number>;
  cpu: { rack_own: number; ipmitool_children: number };
}

function runPoller(configs: PowerConfig[], concurrency: number, rounds: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'poller-child.ts')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`poller child exited ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(out) as ChildResult);
    });
    child.stdin.end(JSON.stringify({ configs, concurrency, rounds }));
  });
}

async function startRedfishPeer(ports: number): Promise<{ pid: number; addresses: string[]; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'redfish-peer.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SYSTEMS: String(BMCS), PORTS: String(ports) },
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`redfish peer exited ${code}`)));
  });
  return {
    pid: child.pid!,
    addresses: (JSON.parse(line) as { addresses: string[] }).addresses,
    stop: () => stopChild(child),
  };
}

export async function powerQuery(log: Log): Promise<BenchOutcome> {
  const sims: IpmiSim[] = [];
  let redfish: Awaited<ReturnType<typeof startRedfishPeer>> | undefined;
  try {
    for (let i = 0; i < IPMI_SIMS; i++) sims.push(await startIpmiSim());
    redfish = await startRedfishPeer(BMCS);
    log(`power-query: ${IPMI_SIMS} ipmi_sim instances and a Redfish peer on ${BMCS} ports are up`);
    const configs: Record<string, PowerConfig[]> = {
      ipmi: Array.from({ length: BMCS }, (_, i) => ({
        systemId: `ipmi${i}`,
        powerType: 'ipmi',
        parameters: { power_address: sims[i % IPMI_SIMS]!.address, power_user: 'admin', power_pass: 'password' },
      })),
      redfish: Array.from({ length: BMCS }, (_, i) => ({
        systemId: `rf${i}`,
        powerType: 'redfish',
        parameters: {
          power_address: redfish!.addresses[i]!,
          node_id: String(i),
          power_user: 'admin',
          power_pass: 'password',
        },
      })),
    };
    const peerCpu: Record<string, () => number> = {
      ipmi: () => sims.reduce((s, x) => s + (x.pid ? treeCpuSeconds(x.pid) : 0), 0),
      redfish: () => treeCpuSeconds(redfish!.pid),
    };
    const results: Record<string, unknown> = {};
    const summary: string[] = [];
    let ok = true;
    for (const type of ['ipmi', 'redfish']) {
      for (const concurrency of CONCURRENCY) {
        const rounds = ROUNDS[type]!;
        const peer0 = peerCpu[type]!();
        const r = await runPoller(configs[type]!, concurrency, rounds);
        const peerSeconds = peerCpu[type]!() - peer0;
        const queries = r.latencies.length;
        const failed = (r.states.error ?? 0) + (r.states.unknown ?? 0);
        if (failed > 0 || queries !== BMCS * rounds) ok = false;
        const rackCpu = r.cpu.rack_own + r.cpu.ipmitool_children;
        const key = `${type}_c${concurrency}`;
        results[key] = {
          bmcs: BMCS,
          rounds,
          concurrency,
          queries,
          failed_queries: failed,
          queries_per_second: round(queries / r.seconds),
          round_seconds: r.roundSeconds.map((s) => round(s, 2)),
          latency_ms: summarize(r.latencies),
          rack_cpu_seconds: {
            node: round(r.cpu.rack_own, 2),
            ipmitool_children: round(r.cpu.ipmitool_children, 2),
            total: round(rackCpu, 2),
          },
          rack_cpu_ms_per_query: round((rackCpu / queries) * 1000, 2),
          peer_cpu_seconds: round(peerSeconds, 2),
        };
        const line = `${key}: ${round(queries / r.seconds)} queries/s, p50 ${summarize(r.latencies).p50} ms, p99 ${summarize(r.latencies).p99} ms, rack CPU ${round((rackCpu / queries) * 1000, 2)} ms/query${failed ? `, ${failed} FAILED` : ''}`;
        log(`power-query: ${line}`);
        summary.push(line);
      }
    }
    return {
      name: 'power-query',
      ok,
      summary,
      result: {
        benchmark: 'power-query',
        what: 'the rack poller (pollOnce) querying 500 BMCs with bounded concurrency; in-memory region (no region HTTP)',
        peers: {
          ipmi: `real ipmi_sim (openipmi) + real ipmitool (lanplus, cipher 3); the 500 BMC configs point at ${IPMI_SIMS} ipmi_sim instances on their own UDP ports (${BMCS / IPMI_SIMS} configs each); ipmi_sim's chassis script is a shell script (its CPU is peer_cpu_seconds)`,
          redfish: `bench/power/redfish-peer.ts (test/helpers/bmc/redfish-peer.ts): one node:http process listening on ${BMCS} ports (one BMC, one system each), SessionService + Basic auth; sushy-emulator cannot serve 500 systems cheaply`,
        },
        cpu_note:
          "rack_cpu_seconds from the poller process's /proc/self/stat: utime+stime (node) and cutime+cstime (reaped ipmitool children); the machine's 2 CPUs were shared with other engineers' work, see machine_load",
        ...results,
      },
    };
  } finally {
    await redfish?.stop();
    for (const s of sims) await s.stop().catch(() => undefined);
  }
}
