// The e2e labs: each test/e2e file runs inside its own fresh network namespace that is the whole
// lab: a bridge br0 (10.77.0.1/24) with taps for the VM; PostgreSQL, Temporal, the region, the
// rack (its DHCP, TFTP and HTTP boot servers), ipmi_sim and QEMU all run in it, so the rack's DHCP
// server answers only the VM and nothing leaks onto the host's networks, nor into another lab.
// One namespace per file: a file the runner times out leaves its lab's processes behind, and they
// go with its namespace instead of holding the next file's ports. Because the labs share nothing,
// several can run at once (`LabQueue`'s lanes): alone, the deploy lab kept 1.16 of this machine's 2
// cores busy on average (its QEMU VM under TCG, the lab's own PostgreSQL, Temporal, region, rack).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LaneQueue } from './lanes';
import { TapFailureCollector, failureSummary, type TapFailure } from './tap-failures';

const root = path.resolve(__dirname, '..');
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });

/**
 * The longest files, longest first (702, 457, 421, 366 and 282 s, one after the other in a full
 * run): started first, so that the last lab to finish is a short one and lanes end together.
 */
const LONGEST_FIRST = ['ephemeral-deploy', 'real-image-uefi', 'real-image', 'network-deploy', 'rack-failover'];

/** The e2e files the filter (a path substring, as scripts/test.ts takes) selects, longest first. */
export function e2eFiles(filter: string): string[] {
  const rank = (f: string) => {
    const i = LONGEST_FIRST.indexOf(path.basename(f, '.test.ts'));
    return i < 0 ? LONGEST_FIRST.length : i;
  };
  return fs
    .readdirSync(path.join(root, 'test', 'e2e'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join('test', 'e2e', f))
    .filter((f) => f.includes(filter) || filter.includes(f))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function setUp(ns: string): void {
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

/**
 * Whatever the tests left running in the lab (a VM, ipmi_sim) goes with it, and so do the
 * namespaces a test made beside it (`<lab>-r2`: a second rack, test/e2e/lab/second-rack.ts).
 */
export function tearDown(ns: string): void {
  const all = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!);
  for (const name of [...all.filter((n) => n.startsWith(`${ns}-`)), ...all.filter((n) => n === ns)]) {
    let pids: string[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    } catch {
      /* its processes are gone or cannot be listed: the namespace goes anyway */
    }
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

export interface LabResult {
  file: string;
  code: number;
  seconds: number;
  /** The failing tests its TAP output named, for the run's last lines. */
  failures: TapFailure[];
}

export interface LabQueueOptions {
  /** Namespace names are `<prefix>-<n>`. */
  prefix: string;
  /** How many labs may run at once at first; `widened` changes it. */
  lanes: number;
  /**
   * Labs running beside other output (several lanes, or beside the rest of `npm test`): each
   * line of a lab's output is written whole, after `[<file's name>] `, so interleaved lines still
   * say whose they are. Otherwise its lines pass through untouched.
   */
  prefixLines: boolean;
  log: (line: string) => void;
}

/**
 * Runs e2e files, each in its own lab, at most `lanes` at a time, in the order given; SIGINT and
 * SIGTERM tear the running labs down.
 */
export class LabQueue {
  private readonly queue: LaneQueue<{ file: string; ns: string }, LabResult>;
  readonly done: Promise<LabResult[]>;

  constructor(
    files: string[],
    private readonly o: LabQueueOptions,
  ) {
    const labs = files.map((file, i) => ({ file, ns: `${o.prefix}-${i}` }));
    this.queue = new LaneQueue(labs, o.lanes, (lab) => this.runOne(lab.file, lab.ns));
    this.done = this.queue.done;
    tearDownOnSignal(() => this.runningLabs());
  }

  /** All of the labs' results, once done, with `lanes` of them at a time from now on. */
  widened(lanes: number): Promise<LabResult[]> {
    this.queue.setLanes(lanes);
    return this.done;
  }

  /** The namespaces of the labs still running (to tear down when the run is interrupted). */
  runningLabs(): string[] {
    return this.queue.running().map((lab) => lab.ns);
  }

  /** Start no more labs and tear down the running ones (the run is failing for another reason). */
  abort(): void {
    this.queue.close();
    tearDownAll(this.runningLabs());
  }

  private async runOne(file: string, ns: string): Promise<LabResult> {
    const started = Date.now();
    const failures = new TapFailureCollector(root);
    let code = 1;
    try {
      setUp(ns);
      this.o.log(`${file}: lab namespace ${ns}: br0 10.77.0.1/24 + tap0, tap1`);
      code = await this.runInLab(file, ns, failures);
    } catch (err) {
      this.o.log(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      try {
        tearDown(ns);
      } catch (err) {
        this.o.log(`${file}: tearing down ${ns}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    this.o.log(`${file}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${seconds} s`);
    return { file, code, seconds, failures: failures.failures };
  }

  private runInLab(file: string, ns: string, failures: TapFailureCollector): Promise<number> {
    const args = [
      'netns',
      'exec',
      ns,
      process.execPath,
      '--import',
      'tsx',
      path.join(root, 'scripts', 'test.ts'),
      file,
    ];
    const env = { ...process.env, METALFLOW_E2E_NETNS: ns };
    return new Promise<number>((resolve) => {
      const child = spawn('ip', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
      const tag = this.o.prefixLines ? `[${path.basename(file, '.test.ts')}] ` : '';
      const out = lineRelay(tag, process.stdout);
      const err = lineRelay(tag, process.stderr);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out.push(chunk);
        failures.push(chunk);
      });
      child.stderr.setEncoding('utf8').on('data', err.push);
      let settled = false;
      const settle = (code: number) => {
        if (settled) return;
        settled = true;
        out.end();
        err.end();
        failures.end();
        resolve(code);
      };
      child.on('error', (e) => {
        this.o.log(`${file}: ${e.message}`);
        settle(1);
      });
      // 'close' waits for every holder of the pipes: a process the lab left behind would hold
      // them until the tear-down, which comes after this. So the exit decides, with a moment for
      // the pipes to drain.
      child.on('exit', (c, signal) => {
        const code = c ?? (signal ? 1 : 0);
        const drained = setTimeout(() => settle(code), 5_000);
        child.once('close', () => {
          clearTimeout(drained);
          settle(code);
        });
      });
    });
  }
}

/** Writes a stream's complete lines, each after `tag`, in one write apiece. */
export function lineRelay(tag: string, out: NodeJS.WritableStream): { push: (chunk: string) => void; end: () => void } {
  let pending = '';
  return {
    push: (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      if (lines.length) out.write(lines.map((l) => `${tag}${l}\n`).join(''));
    },
    end: () => {
      if (pending) out.write(`${tag}${pending}\n`);
      pending = '';
    },
  };
}

/** Lanes from the environment: a positive integer, or the default. */
export function lanesFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

/** Tears the running labs down when the run is interrupted, then exits as the signal would. */
function tearDownOnSignal(labs: () => string[]): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      tearDownAll(labs());
      process.exit(128 + os.constants.signals[signal]);
    });
}

/** Tears each lab down, going on past one that fails: the run is ending either way. */
function tearDownAll(labs: string[]): void {
  for (const ns of labs) {
    try {
      tearDown(ns);
    } catch {
      /* best effort */
    }
  }
}

/** Whether this process may make labs (root); if not, it says why. */
export function canMakeLabs(log: (line: string) => void): boolean {
  if (os.userInfo().uid === 0) return true;
  log('the e2e lab needs root (network namespaces, a tap device, DHCP on port 67)');
  return false;
}

/**
 * Says how the labs went (a line naming the failed files, then their failing tests, so that the
 * tail of a long run names them) and returns the exit code they make.
 */
export function reportLabs(results: LabResult[], log: (line: string) => void): number {
  const failed = results.filter((r) => r.code !== 0).map((r) => r.file);
  log(
    `${results.length - failed.length} of ${results.length} e2e files passed${failed.map((f) => `; failed: ${f}`).join('')}`,
  );
  const summary = failureSummary(
    results.flatMap((r) => r.failures),
    'e2e tests',
  );
  if (summary) console.log(summary);
  return failed.length === 0 ? 0 : 1;
}
