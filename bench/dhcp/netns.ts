// Two network namespaces for the DHCP benchmark: the server's, with a bridge holding the server
// address, and the load generator's, joined to the bridge by a veth pair (perfdhcp acts as a relay
// from there, lab README fact 5). Names carry our pid; leftovers of dead bench runs are removed.
import { execFileSync } from 'node:child_process';

const PREFIX = 'mfbench-dhcp-';

export interface BenchNet {
  server: string;
  client: string;
  /** The client side's interface (perfdhcp -l). */
  clientIf: string;
  serverIp: string;
  cidr: string;
  pool: { start: string; end: string };
  /** Deletes both namespaces (with them the bridge and the veth pair). */
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function createBenchNet(): BenchNet {
  removeStale();
  const server = `${PREFIX}${process.pid}-s`;
  const client = `${PREFIX}${process.pid}-c`;
  // veth names are made in the root namespace first (15 characters at most, unique there).
  const sideS = `mfd${process.pid}s`;
  const sideC = `mfd${process.pid}c`;
  const net: BenchNet = {
    server,
    client,
    clientIf: sideC,
    serverIp: '10.78.0.1',
    cidr: '10.78.0.0/16',
    pool: { start: '10.78.1.0', end: '10.78.255.254' },
    destroy: () => {
      for (const ns of [server, client]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // never created, or gone already
        }
      }
    },
  };
  try {
    ip('netns', 'add', server);
    ip('netns', 'add', client);
    ip('-n', server, 'link', 'set', 'lo', 'up');
    ip('-n', client, 'link', 'set', 'lo', 'up');
    ip('-n', server, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', server, 'addr', 'add', '10.78.0.1/16', 'dev', 'br0');
    ip('-n', server, 'link', 'set', 'br0', 'up');
    ip('link', 'add', sideS, 'type', 'veth', 'peer', 'name', sideC);
    ip('link', 'set', sideS, 'netns', server);
    ip('link', 'set', sideC, 'netns', client);
    ip('-n', server, 'link', 'set', sideS, 'master', 'br0');
    ip('-n', server, 'link', 'set', sideS, 'up');
    ip('-n', client, 'addr', 'add', '10.78.0.2/16', 'dev', sideC);
    ip('-n', client, 'link', 'set', sideC, 'up');
    // Without a default route a send to 255.255.255.255 fails with ENETUNREACH (lab fact 3).
    ip('-n', server, 'route', 'add', '255.255.255.255/32', 'dev', 'br0');
    ip('-n', client, 'route', 'add', '255.255.255.255/32', 'dev', sideC);
  } catch (err) {
    net.destroy();
    throw new Error(
      `creating the benchmark namespaces failed (root needed): ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? (err as Error).message}`,
      { cause: err },
    );
  }
  return net;
}

/** Namespaces of earlier bench runs whose process is gone (a crash or kill -9 skipped cleanup). */
function removeStale(): void {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}(\\d+)-[sc]$`).exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      ip('netns', 'del', name);
    } catch {
      // someone else removed it meanwhile
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
