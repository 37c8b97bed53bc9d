// `npm run e2e` (and the last step of `npm test`): test/e2e inside a fresh network namespace that
// is the whole lab: a bridge br0 (10.77.0.1/24) with a tap for the VM; PostgreSQL, Temporal, the
// region, the rack (its DHCP, TFTP and HTTP boot servers), ipmi_sim and QEMU all run in it, so
// the rack's DHCP server answers only the VM and nothing leaks onto the host's networks.
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const ns = `mf-e2e-${process.pid}`;
const log = (l: string) => console.error(`[e2e] ${l}`);
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });

function setUp(): void {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'br0');
  ip('-n', ns, 'link', 'set', 'br0', 'up');
  // A namespace without a default route cannot send to 255.255.255.255 (ENETUNREACH) otherwise.
  ip('-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', 'br0');
  // tap1 is the second NIC of a two-NIC VM (startLab({ nics: 2 })); unused, it carries nothing.
  for (const tap of ['tap0', 'tap1']) {
    ip('-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    ip('-n', ns, 'link', 'set', tap, 'master', 'br0');
    ip('-n', ns, 'link', 'set', tap, 'up');
  }
}

function tearDown(): void {
  // Whatever the tests left running in the lab (a VM, ipmi_sim) goes with it.
  const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  ip('netns', 'del', ns);
}

async function main(): Promise<number> {
  if (os.userInfo().uid !== 0) {
    log('the e2e lab needs root (network namespaces, a tap device, DHCP on port 67)');
    return 1;
  }
  setUp();
  log(`lab namespace ${ns}: br0 10.77.0.1/24 + tap0, tap1`);
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          '--import',
          'tsx',
          path.join(root, 'scripts', 'test.ts'),
          process.argv[2] ?? 'test/e2e/',
        ],
        {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, METALFLOW_E2E_NETNS: ns },
        },
      );
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
  } finally {
    tearDown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('e2e failed:', err instanceof Error ? err.stack : err);
    try {
      tearDown();
    } catch {
      /* nothing to clean */
    }
    process.exit(1);
  },
);
