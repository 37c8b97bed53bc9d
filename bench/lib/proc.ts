// /proc readings for the processes under test: resident memory (VmRSS, VmHWM) and CPU time
// (utime + stime, plus cutime + cstime of reaped children, so a process tree's total is exact).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticks: number | undefined;
/** Clock ticks per second (the unit of /proc/<pid>/stat's CPU fields). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface Memory {
  rssMiB: number;
  /** The process's peak resident set since it started. */
  hwmMiB: number;
}

export function memoryOf(pid: number): Memory | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMiB: round1(kb('VmRSS') / 1024), hwmMiB: round1(kb('VmHWM') / 1024) };
}

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** Own CPU seconds (utime + stime). */
  own: number;
  /** CPU seconds of children it has reaped (cutime + cstime). */
  reaped: number;
}

function statOf(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // Fields from 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17 (1-based).
  const field = (n: number) => Number(f[n - 3]);
  const hz = clockTicks();
  return { pid, ppid: field(4), comm, own: (field(14) + field(15)) / hz, reaped: (field(16) + field(17)) / hz };
}

/** CPU seconds (user + system) the process itself has used. */
export function cpuSecondsOf(pid: number): number | undefined {
  return statOf(pid)?.own;
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** The pids of a process and all its live descendants. */
export function treeOf(root: number, stats: Stat[] = allStats()): Stat[] {
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const self = stats.find((s) => s.pid === root);
  if (!self) return [];
  const out: Stat[] = [];
  const walk = (s: Stat) => {
    out.push(s);
    for (const c of children.get(s.pid) ?? []) walk(c);
  };
  walk(self);
  return out;
}

/**
 * CPU seconds of whole process trees, grouped: each live process counts its own time and that
 * of children it reaped (which are gone), so nothing is counted twice or lost.
 */
export function treeCpuSeconds(root: number, stats: Stat[] = allStats()): number {
  return round3(treeOf(root, stats).reduce((sum, s) => sum + s.own + s.reaped, 0));
}

/**
 * The infrastructure this bench started (PostgreSQL, the Temporal dev server): descendants of
 * this process whose command name says what they are, outside the metalflow processes' trees.
 */
export function infraCpuSeconds(exclude: number[]): { postgres: number; temporal: number } {
  const stats = allStats();
  const external = externalTemporalPids(stats);
  // An external Temporal (and its own PostgreSQL) is "temporal" only, never also "postgres".
  const externalTree = unionOf(external, stats);
  const excluded = new Set([...exclude.flatMap((pid) => treeOf(pid, stats).map((s) => s.pid)), ...externalTree.keys()]);
  const mine = treeOf(process.pid, stats).filter((s) => !excluded.has(s.pid) && s.pid !== process.pid);
  const byPid = new Map(mine.map((s) => [s.pid, s]));
  // A group's root is its topmost process with that name: its reaped time covers dead children.
  const roots = (match: (s: Stat) => boolean) =>
    mine.filter((s) => match(s) && !(byPid.get(s.ppid) && match(byPid.get(s.ppid)!)));
  const total = (match: (s: Stat) => boolean) =>
    round3(roots(match).reduce((sum, r) => sum + treeCpuSeconds(r.pid, stats), 0));
  return {
    postgres: total((s) => s.comm.startsWith('postgres')),
    temporal: external.length ? cpuOf(externalTree) : total((s) => s.comm.startsWith('temporal')),
  };
}

/** The processes of several trees, each once (a listed pid may sit in another's tree). */
function unionOf(roots: number[], stats: Stat[]): Map<number, Stat> {
  return new Map(roots.flatMap((pid) => treeOf(pid, stats)).map((s) => [s.pid, s]));
}

function cpuOf(processes: Map<number, Stat>): number {
  return round3([...processes.values()].reduce((sum, s) => sum + s.own + s.reaped, 0));
}

/**
 * An external Temporal's processes (TEMPORAL_ADDRESS given): METALFLOW_BENCH_TEMPORAL_PIDS names
 * them, the server first, then e.g. the PostgreSQL that persists it, so its CPU counts as the dev
 * server's does (its memory: the server's, the first pid). Empty when the bench started the dev
 * server itself; a pid that is not a number or not running, or the variable without
 * TEMPORAL_ADDRESS, is an error rather than a figure quietly left out.
 */
export function externalTemporalPids(stats: Stat[] = allStats()): number[] {
  const given = (process.env.METALFLOW_BENCH_TEMPORAL_PIDS ?? '').split(/[\s,]+/).filter(Boolean);
  if (given.length && !process.env.TEMPORAL_ADDRESS)
    throw new Error('METALFLOW_BENCH_TEMPORAL_PIDS names an external Temporal, but TEMPORAL_ADDRESS is not set');
  return given.map((word) => {
    const pid = /^\d+$/.test(word) ? Number(word) : NaN;
    if (!stats.some((s) => s.pid === pid))
      throw new Error(`METALFLOW_BENCH_TEMPORAL_PIDS: no running process '${word}'`);
    return pid;
  });
}

/** CPU seconds the whole machine has been busy (all CPUs), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / clockTicks();
}

/**
 * Measures how much CPU processes outside this bench's tree used meanwhile: numbers taken while
 * something else ran on the machine are not comparable, and the results say so.
 */
export function foreignCpuMeter(): () => { other_processes_cpu_seconds: number; bench_tree_cpu_seconds: number } {
  // An external Temporal the bench was pointed at is part of what it measures, not a disturbance.
  const roots = [process.pid, ...externalTemporalPids()];
  const ours = () => cpuOf(unionOf(roots, allStats()));
  const busy0 = machineBusySeconds();
  const tree0 = ours();
  return () => {
    const tree = ours() - tree0;
    return {
      other_processes_cpu_seconds: round3(Math.max(0, machineBusySeconds() - busy0 - tree)),
      bench_tree_cpu_seconds: round3(tree),
    };
  };
}

/** The Temporal dev server's process (the Go binary), if this bench started one. */
export function temporalPid(): number | undefined {
  const external = externalTemporalPids()[0];
  if (external !== undefined) return external;
  const mine = treeOf(process.pid);
  // The CLI may be a wrapper (pyenv shim, Python entry point) that runs the binary as a child.
  const named = mine.filter((s) => s.comm.startsWith('temporal'));
  return named[named.length - 1]?.pid;
}

/** Samples VmRSS of named processes every `everyMs` and keeps each one's peak. */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pids: Record<string, number | undefined>,
    private readonly everyMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  /** Peak VmRSS (MiB) seen per name while sampling. */
  stop(): Record<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(this.peaks);
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid === undefined) continue;
      const m = memoryOf(pid);
      if (m && !(m.rssMiB <= (this.peaks.get(name) ?? -1))) this.peaks.set(name, m.rssMiB);
    }
  }
}

const round1 = (x: number) => Number(x.toFixed(1));
const round3 = (x: number) => Number(x.toFixed(3));
