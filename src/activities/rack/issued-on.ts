// Which power-on activities this rack process has sent a BMC its `on`, by activity (workflow run +
// activity id). The heartbeat details say so too (PowerHeartbeat.onIssued), and they outlive the
// rack, but a heartbeat is sent fire-and-forget: while Temporal's server is away (restarting), the
// attempt's `on` goes out, its heartbeat and its completion are lost, and Temporal retries the
// activity with details that never heard of the `on`. The retry, on this same rack, would then
// cycle a machine that is netbooting because of it (a second boot, a second report). This
// process's memory does not depend on Temporal being up; the heartbeat covers another rack's retry.

/**
 * Long enough for any retry of a lost attempt: Temporal retries it once its heartbeat timeout
 * (30 s) or start-to-close (5 min at most) has passed, plus the retry policy's backoff. A retry
 * later than this has only the heartbeat details to go by, as a partner rack does.
 */
const REMEMBER_MS = 60 * 60_000;
/** A bound on the memory (measured: ~0.8 KB an entry, 7.5 MiB full), far above any rack's hourly power-ons. */
const MAX_ENTRIES = 10_000;

export interface ActivityKey {
  workflowId: string;
  runId: string;
  activityId: string;
}

export class IssuedOnMemory {
  /** key → the attempt that issued `on`, and when; insertion order is age order. */
  private readonly issued = new Map<string, { attempt: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(key: ActivityKey, attempt: number): void {
    const id = keyOf(key);
    const at = this.now();
    this.issued.delete(id);
    this.issued.set(id, { attempt, at });
    for (const [oldest, entry] of this.issued) {
      if (this.issued.size <= MAX_ENTRIES && at - entry.at < REMEMBER_MS) break;
      this.issued.delete(oldest);
    }
  }

  /**
   * Whether an earlier attempt of this activity issued `on`. Only a later attempt counts: an
   * operator's `temporal activity reset` starts the attempts again from 1 (and may clear the
   * heartbeat details on purpose), and gets a fresh power-on.
   */
  issuedBefore(key: ActivityKey, attempt: number): boolean {
    const entry = this.issued.get(keyOf(key));
    return entry !== undefined && attempt > entry.attempt && this.now() - entry.at < REMEMBER_MS;
  }

  get size(): number {
    return this.issued.size;
  }
}

function keyOf(k: ActivityKey): string {
  return `${k.workflowId}\0${k.runId}\0${k.activityId}`;
}
