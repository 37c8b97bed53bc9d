// BIND 9's named, run by the region: in the foreground (-g, its log to a file), configured from
// files this region writes under its state dir, reloaded through rndc with a key made at each start,
// and never outliving the region (TIED_TO_PARENT).
// Restarted when it exits unexpectedly, so one crash does not end DNS for the region's lifetime.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Where Debian puts the binaries, which a non-root PATH often lacks. */
const SBIN_DIRS = ['/usr/sbin', '/usr/bin', '/sbin'];

/** A binary on PATH or in Debian's sbin directories, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN_DIRS];
  return dirs.map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
}

export interface NamedFiles {
  namedConf: string;
  zones: Array<{ file: string; text: string }>;
}

/** A free TCP port on loopback for rndc's control channel. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Replace a file so named never reads half of it. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o640 });
  fs.renameSync(tmp, file);
}

/**
 * Runs "$0" "$@" (named) and ends it when this process goes, however it goes: SIGTERM/SIGINT to the
 * shell are passed on, and when the region dies (even SIGKILL) the pipe on the shell's stdin closes,
 * `read` returns and named is stopped. Node cannot ask the kernel for a parent-death signal itself.
 * Once named has exited the shell ends that watcher: left blocked on the pipe, it would outlive the
 * shell and later kill whatever process had been given named's pid.
 */
const TIED_TO_PARENT = `exec 3<&0
"$0" "$@" </dev/null &
pid=$!
trap 'kill $pid 2>/dev/null' TERM INT
( read _ <&3; kill $pid 2>/dev/null ) &
watcher=$!
wait $pid; status=$?
wait $pid 2>/dev/null && status=$?
kill $watcher 2>/dev/null
exit $status`;

const READY_TIMEOUT_MS = 20_000;
const RESTART_DELAY_MS = 2_000;
const LOG_MAX_BYTES = 10 * 1024 * 1024;

export class NamedProcess {
  readonly zonesDir: string;
  readonly rndcSecret = crypto.randomBytes(32).toString('base64');
  private child: ChildProcess | undefined;
  private stopping = false;
  private rndcConf: string;
  private constructor(
    readonly dir: string,
    readonly rndcPort: number,
    private readonly bin: { named: string; rndc: string },
    private readonly log: (line: string) => void,
    private readonly readyTimeoutMs: number,
  ) {
    this.zonesDir = path.join(dir, 'zones');
    this.rndcConf = path.join(dir, 'rndc.conf');
  }

  /** The named of this machine, or undefined (logged) when BIND is not installed. `readyTimeoutMs`: tests shorten it. */
  static async create(
    dir: string,
    log: (line: string) => void,
    o: { readyTimeoutMs?: number } = {},
  ): Promise<NamedProcess | undefined> {
    const named = findBinary('named');
    const rndc = findBinary('rndc');
    if (!named || !rndc) {
      log('DNS: BIND 9 is not installed (apt-get install bind9 bind9-utils): the region serves no DNS');
      return undefined;
    }
    fs.mkdirSync(path.join(dir, 'zones'), { recursive: true, mode: 0o750 });
    return new NamedProcess(dir, await freePort(), { named, rndc }, log, o.readyTimeoutMs ?? READY_TIMEOUT_MS);
  }

  /** Writes the zones first, then named.conf, and drops zone files no longer named in it. */
  write(files: NamedFiles): void {
    const keep = new Set(files.zones.map((z) => z.file));
    for (const z of files.zones) writeAtomically(path.join(this.zonesDir, z.file), z.text);
    writeAtomically(path.join(this.dir, 'named.conf'), files.namedConf);
    writeAtomically(
      this.rndcConf,
      `key "rndc-key" { algorithm hmac-sha256; secret "${this.rndcSecret}"; };\n` +
        `options { default-server 127.0.0.1; default-port ${this.rndcPort}; default-key "rndc-key"; };\n`,
    );
    for (const f of fs.readdirSync(this.zonesDir))
      if (f.startsWith('db.') && !keep.has(f)) fs.rmSync(path.join(this.zonesDir, f), { force: true });
  }

  /**
   * A named left running by a region that was killed (SIGKILL leaves its children) still holds the
   * port: the one started on this directory's named.conf is stopped first.
   */
  private async stopOrphan(): Promise<void> {
    const pidFile = path.join(this.dir, 'named.pid');
    const pid = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : NaN);
    if (!Number.isInteger(pid) || pid <= 1) return;
    const ours = () => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join(this.dir, 'named.conf'));
      } catch {
        return false;
      }
    };
    if (!ours()) return;
    this.log(`DNS: stopping named ${pid} left by an earlier region process`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && ours(); i++) await new Promise((r) => setTimeout(r, 100));
    if (ours()) process.kill(pid, 'SIGKILL');
  }

  /** Starts named on the files written and waits until rndc answers. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.stopOrphan();
    const logFile = path.join(this.dir, 'named.log');
    // One previous log is kept: named logs each reload, and a region runs for months.
    if (fs.existsSync(logFile) && fs.statSync(logFile).size > LOG_MAX_BYTES) fs.renameSync(logFile, `${logFile}.1`);
    const out = fs.openSync(logFile, 'a');
    // Detached: the shell leads a process group of its own, with named and the watcher in it, so
    // signalGroup reaches all three (a signal to the shell alone, SIGKILL above all, orphans named).
    const child = spawn(
      '/bin/sh',
      ['-c', TIED_TO_PARENT, this.bin.named, '-g', '-c', path.join(this.dir, 'named.conf')],
      {
        stdio: ['pipe', out, out],
        detached: true,
      },
    );
    fs.closeSync(out);
    this.child = child;
    let exited = false;
    child.once('exit', (code, signal) => {
      exited = true;
      // The watcher's pipe: nothing is left to watch (and a restart makes a new one).
      child.stdin?.destroy();
      if (this.stopping || this.child !== child) return;
      this.log(`DNS: named exited (${signal ?? code}); restarting in ${RESTART_DELAY_MS / 1000} s (see ${logFile})`);
      setTimeout(() => {
        if (!this.stopping) this.start().catch((err: Error) => this.log(`DNS: ${err.message}`));
      }, RESTART_DELAY_MS).unref();
    });
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`named did not start: ${tail(logFile)}`);
      if (
        await this.rndc(['status']).then(
          () => true,
          () => false,
        )
      )
        return;
      if (Date.now() > deadline) {
        signalGroup(child, 'SIGKILL');
        throw new Error(`named did not answer rndc within ${this.readyTimeoutMs / 1000} s: ${tail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** named rereads named.conf and every changed zone file. */
  async reload(): Promise<void> {
    await this.rndc(['reload']);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    signalGroup(child, 'SIGTERM');
    // Ends the shell's watcher of this process too.
    child.stdin?.destroy();
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGKILL');
  }

  private rndc(args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile(this.bin.rndc, ['-c', this.rndcConf, ...args], { timeout: 10_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`rndc ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
      ),
    );
  }
}

/** A signal to the wrapper's whole process group: the shell, named and the watcher. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The end of named's log, for an error message. */
function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}
