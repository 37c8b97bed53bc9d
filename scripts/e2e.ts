// `npm run e2e` (and the last step of `npm test`): each test/e2e file inside its own fresh network
// namespace that is the whole lab: a bridge br0 (10.77.0.1/24) with taps for the VM; PostgreSQL,
// Temporal, the region, the rack (its DHCP, TFTP and HTTP boot servers), ipmi_sim and QEMU all run
// in it, so the rack's DHCP server answers only the VM and nothing leaks onto the host's networks.
// One namespace per file: a file the runner times out leaves its lab's processes behind, and they
// go with its namespace instead of holding the next file's ports.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
let ns = `mf-e2e-${process.pid}`;
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
  // Whatever the tests left running in the lab (a VM, ipmi_sim) goes with it, and so do the
  // namespaces a test made beside it (`<lab>-r2`: a second rack, test/e2e/lab/second-rack.ts).
  const extra = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${ns}-`));
  for (const name of [...extra, ns]) {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    ip('netns', 'del', name);
  }
}

/** The e2e files the filter (a path substring, as scripts/test.ts takes) selects. */
function e2eFiles(filter: string): string[] {
  return fs
    .readdirSync(path.join(root, 'test', 'e2e'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join('test', 'e2e', f))
    .filter((f) => f.includes(filter) || filter.includes(f))
    .sort();
}

function runInLab(target: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', path.join(root, 'scripts', 'test.ts'), target],
      { cwd: root, stdio: 'inherit', env: { ...process.env, METALFLOW_E2E_NETNS: ns } },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  if (os.userInfo().uid !== 0) {
    log('the e2e lab needs root (network namespaces, a tap device, DHCP on port 67)');
    return 1;
  }
  const filter = process.argv[2] ?? 'test/e2e/';
  const files = e2eFiles(filter);
  if (files.length === 0) {
    log(`no e2e file matches "${filter}"`);
    return 1;
  }
  let failed = 0;
  for (const [i, file] of files.entries()) {
    ns = `mf-e2e-${process.pid}-${i}`;
    setUp();
    log(`${file}: lab namespace ${ns}: br0 10.77.0.1/24 + tap0, tap1`);
    try {
      if ((await runInLab(file)) !== 0) failed++;
    } finally {
      tearDown();
    }
  }
  log(`${files.length - failed} of ${files.length} e2e files passed`);
  return failed === 0 ? 0 : 1;
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
