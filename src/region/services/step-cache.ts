// The step of a machine's running operation, asked of its workflow at most once every few seconds.
// A query costs up to STEP_QUERY_TIMEOUT_MS (a worker down) and a replay when the worker's cache
// no longer holds the workflow; clients poll a deploying machine's GET, so every GET asking would
// make polling cost a query each. Per region process: a few seconds stale is what polling sees anyway.

/** How long one answer serves the reads of the same operation. */
export const STEP_CACHE_TTL_MS = 3_000;
/** Bounded: one entry per machine mid-operation read lately; the oldest go first. */
export const STEP_CACHE_MAX_ENTRIES = 1_000;

export class StepCache<T> {
  // In insertion order, which is the order of `at` (an entry is deleted before it is set again).
  private readonly entries = new Map<string, { at: number; answer: Promise<T> }>();

  constructor(
    private readonly ttlMs = STEP_CACHE_TTL_MS,
    private readonly maxEntries = STEP_CACHE_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The answer for `key` given within the TTL, else `ask()`'s (shared by reads while it runs). */
  get(key: string, ask: () => Promise<T>): Promise<T> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.answer;
    this.entries.delete(key);
    for (const [k, e] of this.entries) {
      if (this.entries.size < this.maxEntries && now - e.at < this.ttlMs) break;
      this.entries.delete(k);
    }
    const answer = ask();
    this.entries.set(key, { at: now, answer });
    // A failed ask is not remembered: the next read asks again.
    answer.catch(() => {
      if (this.entries.get(key)?.answer === answer) this.entries.delete(key);
    });
    return answer;
  }

  get size(): number {
    return this.entries.size;
  }
}
