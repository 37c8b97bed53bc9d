// Leases on disk: an append-only JSON-lines journal in the rack's state dir. Appends are group
// committed (one write + fdatasync for everything that arrived within a few ms), so a burst of
// ACKs costs one disk flush, yet no ACK leaves before its lease is durable. Startup folds the
// journal into one line per address and rewrites it atomically (compaction); so does a running
// journal once it holds several times more lines than addresses (renewals add a line each).
import fs from 'node:fs';
import path from 'node:path';
import { formatIp, parseIp } from './ipv4';
import type { Lease, LeaseState } from './lease-table';

/** What the server needs from lease storage (the file journal, or the in-memory one in tests). */
export interface LeaseJournal {
  /** Resolves once every lease given is durable; rejects when it could not be written. */
  append(leases: readonly Lease[]): Promise<void>;
  close(): Promise<void>;
}

export const LEASE_FILE = 'dhcp-leases.jsonl';
/** Free addresses are remembered this long (so a client comes back to its address), then forgotten. */
const REMEMBER_FREE_MS = 7 * 24 * 3600_000;
const STATES: ReadonlySet<string> = new Set<LeaseState>(['bound', 'released', 'expired', 'declined']);

interface Line {
  ip: string;
  mac: string;
  hostname: string;
  state: LeaseState;
  expiresAt: number;
}

export interface OpenedJournal {
  journal: FileLeaseJournal;
  /** The leases the journal held (latest state per address). */
  leases: Lease[];
}

export interface JournalOptions {
  /** How long an append waits for others to share its flush. */
  groupCommitMs?: number;
  /** Compact while running once the file has this many lines and 4× more than addresses. */
  compactAfterLines?: number;
  log?: (line: string) => void;
  now?: () => number;
}

/** Reads and compacts `<stateDir>/dhcp-leases.jsonl`, then opens it for appending. */
export async function openLeaseJournal(stateDir: string, o: JournalOptions = {}): Promise<OpenedJournal> {
  await fs.promises.mkdir(stateDir, { recursive: true });
  const file = path.join(stateDir, LEASE_FILE);
  const leases = await readJournal(file, o.log ?? (() => undefined), (o.now ?? Date.now)());
  const handle = await rewrite(file, leases);
  return { journal: new FileLeaseJournal(file, handle, leases, o), leases };
}

async function readJournal(file: string, log: (line: string) => void, now: number): Promise<Lease[]> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const byIp = new Map<number, Lease>();
  let bad = 0;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const lease = fromLine(raw);
    if (lease) byIp.set(lease.ip, lease);
    else bad += 1;
  }
  // A torn last line is what a crash mid-write leaves; its ACK was never sent.
  if (bad) log(`dhcp lease journal ${file}: ${bad} unreadable line(s) skipped`);
  return worthKeeping(byIp.values(), now);
}

const worthKeeping = (leases: Iterable<Lease>, now: number): Lease[] =>
  [...leases].filter((l) => l.state === 'bound' || l.state === 'declined' || now - l.expiresAt < REMEMBER_FREE_MS);

function fromLine(raw: string): Lease | undefined {
  try {
    const l = JSON.parse(raw) as Partial<Line>;
    const ip = typeof l.ip === 'string' ? parseIp(l.ip) : undefined;
    if (
      ip === undefined ||
      typeof l.mac !== 'string' ||
      typeof l.state !== 'string' ||
      !STATES.has(l.state) ||
      typeof l.expiresAt !== 'number'
    )
      return undefined;
    return {
      ip,
      mac: l.mac,
      hostname: typeof l.hostname === 'string' ? l.hostname : '',
      state: l.state,
      expiresAt: l.expiresAt,
    };
  } catch {
    return undefined;
  }
}

const toLine = (l: Lease): string =>
  `${JSON.stringify({ ip: formatIp(l.ip), mac: l.mac, hostname: l.hostname, state: l.state, expiresAt: l.expiresAt } satisfies Line)}\n`;

/**
 * Write-to-temp, fsync, rename, fsync the directory: a crash leaves the old or the new file.
 * Returns the new file opened for appending.
 */
async function rewrite(file: string, leases: readonly Lease[]): Promise<fs.promises.FileHandle> {
  const tmp = `${file}.tmp`;
  const h = await fs.promises.open(tmp, 'w');
  try {
    await h.writeFile(leases.map(toLine).join(''));
    await h.sync();
  } finally {
    await h.close();
  }
  // Opened before the rename, so the handle is the new file's whatever happens next.
  const appender = await fs.promises.open(tmp, 'a');
  try {
    await fs.promises.rename(tmp, file);
    const dir = await fs.promises.open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    await appender.close();
    throw err;
  }
  return appender;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class FileLeaseJournal implements LeaseJournal {
  private pending: Lease[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** The last write failed and may have left half a line: the next batch starts on a new one. */
  private torn = false;
  /** What a compaction would write: the latest state per address. */
  private readonly latest = new Map<number, Lease>();
  private lines: number;
  private readonly groupCommitMs: number;
  private readonly compactAfterLines: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(
    private readonly file: string,
    private handle: fs.promises.FileHandle,
    initial: readonly Lease[],
    o: JournalOptions = {},
  ) {
    for (const l of initial) this.latest.set(l.ip, l);
    this.lines = initial.length;
    this.groupCommitMs = o.groupCommitMs ?? 2;
    this.compactAfterLines = o.compactAfterLines ?? 100_000;
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => undefined);
  }

  append(leases: readonly Lease[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the DHCP lease journal is closed'));
    // Copies: the caller's lease objects change later (the table updates them in place).
    for (const l of leases) this.pending.push({ ...l });
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /** Flushes what is pending, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.waiters.length) await this.flush();
    await this.handle.close();
  }

  private schedule(): void {
    // While a flush runs, appends gather for the next one (started when it ends).
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.groupCommitMs);
  }

  private async flush(): Promise<void> {
    const leases = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    const run = (async () => {
      try {
        await this.handle.write((this.torn ? '\n' : '') + leases.map(toLine).join(''));
        await this.handle.datasync();
        this.torn = false;
        for (const w of waiters) w.resolve();
      } catch (err) {
        this.torn = true;
        for (const w of waiters) w.reject(err as Error);
        return;
      }
      for (const l of leases) this.latest.set(l.ip, l);
      this.lines += leases.length;
      if (this.lines >= this.compactAfterLines && this.lines >= 4 * this.latest.size) await this.compact();
    })();
    this.flushing = run;
    await run;
    this.flushing = undefined;
    if (this.waiters.length && !this.closed) this.schedule();
  }

  /** Rewrites the file as one line per address; on failure the old file simply keeps growing. */
  private async compact(): Promise<void> {
    const keep = worthKeeping(this.latest.values(), this.now());
    try {
      const appender = await rewrite(this.file, keep);
      await this.handle.close().catch(() => undefined);
      this.handle = appender;
      this.latest.clear();
      for (const l of keep) this.latest.set(l.ip, l);
      this.lines = keep.length;
    } catch (err) {
      this.lines = 0; // try again after as many lines once more
      this.log(`dhcp lease journal ${this.file}: compaction failed: ${(err as Error).message}`);
    }
  }
}

/** The journal for tests: keeps what was appended, durable at once (or failing when told to). */
export class MemoryLeaseJournal implements LeaseJournal {
  readonly appended: Lease[] = [];
  failWith: Error | undefined;

  append(leases: readonly Lease[]): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.appended.push(...leases.map((l) => ({ ...l })));
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
