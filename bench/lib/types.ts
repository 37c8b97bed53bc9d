export type Log = (line: string) => void;

/** What each benchmark hands back to bench/run.ts. */
export interface BenchOutcome {
  name: string;
  /** False when a correctness check failed (never because something was slow). */
  ok: boolean;
  /** Written as bench/results/<name>.json. */
  result: Record<string, unknown>;
  /** A few human lines for the console and summary.json. */
  summary: string[];
}
