// The three DHCP servers the benchmark compares, each started inside the server namespace with
// a fresh lease store, serving the same /16 pool: metalflow's (bench/dhcp/server.ts), dnsmasq
// (no-ping, lease file) and kea-dhcp4 (memfile, persist=true).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchNet } from './netns';

export interface StartedServer {
  name: string;
  pid: number;
  /** Where its leases are kept (for the correctness check after the run). */
  leaseFile: string;
  /** What it printed (stderr and stdout, last 4 kB). */
  output(): string;
  stop(): Promise<void>;
}

export type ServerName = 'metalflow' | 'dnsmasq' | 'kea';

export function startServer(name: ServerName, net: BenchNet, dir: string): StartedServer {
  fs.mkdirSync(dir, { recursive: true });
  switch (name) {
    case 'metalflow':
      return launch(
        name,
        net,
        [
          process.execPath,
          '--import',
          'tsx',
          path.join(__dirname, 'server.ts'),
          dir,
          net.cidr,
          net.pool.start,
          net.pool.end,
        ],
        path.join(dir, 'dhcp-leases.jsonl'),
      );
    case 'dnsmasq': {
      const leaseFile = path.join(dir, 'dnsmasq.leases');
      return launch(
        name,
        net,
        [
          'dnsmasq',
          '--keep-in-foreground',
          '--port=0',
          '--interface=br0',
          '--bind-interfaces',
          '--no-resolv',
          '--no-hosts',
          '--quiet-dhcp',
          '--dhcp-authoritative',
          '--no-ping',
          `--dhcp-range=${net.pool.start},${net.pool.end},255.255.0.0,1h`,
          '--dhcp-lease-max=200000',
          `--dhcp-leasefile=${leaseFile}`,
          `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
          '--log-facility=-',
        ],
        leaseFile,
      );
    }
    case 'kea': {
      const leaseFile = path.join(dir, 'kea-leases4.csv');
      const config = path.join(dir, 'kea-dhcp4.json');
      fs.writeFileSync(
        config,
        JSON.stringify({
          Dhcp4: {
            // Raw sockets (the default): a UDP socket bound to the bridge address misses broadcasts.
            'interfaces-config': { interfaces: ['br0'] },
            'lease-database': { type: 'memfile', persist: true, name: leaseFile, 'lfc-interval': 0 },
            'valid-lifetime': 3600,
            authoritative: true,
            subnet4: [{ id: 1, subnet: net.cidr, pools: [{ pool: `${net.pool.start} - ${net.pool.end}` }] }],
            loggers: [{ name: 'kea-dhcp4', severity: 'WARN', output_options: [{ output: 'stderr' }] }],
          },
        }),
      );
      return launch(name, net, ['kea-dhcp4', '-c', config], leaseFile, { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir });
    }
  }
}

function launch(
  name: string,
  net: BenchNet,
  argv: string[],
  leaseFile: string,
  env: Record<string, string> = {},
): StartedServer {
  // `ip netns exec` execs the command: the child's pid is the server's own (for CPU readings).
  const child: ChildProcess = spawn('ip', ['netns', 'exec', net.server, ...argv], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString()).slice(-4096));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid: child.pid!,
    leaseFile,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
