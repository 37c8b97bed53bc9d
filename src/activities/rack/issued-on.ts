// Which power-on activities this rack process has sent a BMC its `on`, by activity (workflow run +
// activity id). The heartbeat details say so too (PowerHeartbeat.onIssued), and they outlive the
// rack, but a heartbeat is sent fire-and-forget: while Temporal's server is away (restarting), the
// attempt's `on` goes out, its heartbeat and its completion are lost, and Temporal retries the
// activity with details that never heard of the `on`. The retry, on this same rack, would then
// cycle a machine that is netbooting because of it (a second boot, a second report). This
// process's memory does not depend on Temporal being up; the heartbeat covers another rack's retry.

/** Long enough for any retry of a power step (schedule-to-close bounds them at 20 min by default). */
const REMEMBER_MS = 60 * 60_000;
/** A bound on the memory, whatever the rate: a few MB at most. */
const MAX_ENTRIES = 50_000;

export interface ActivityKey {
  workflowId: string;
  runId: string;
  activityId: string;
}

export class IssuedOnMemory {
  /** key → when `on` was issued; insertion order is age order. */
  private readonly issued = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(key: ActivityKey): void {
    const id = keyOf(key);
    const at = this.now();
    this.issued.delete(id);
    this.issued.set(id, at);
    for (const [oldest, when] of this.issued) {
      if (this.issued.size <= MAX_ENTRIES && at - when < REMEMBER_MS) break;
      this.issued.delete(oldest);
    }
  }

  has(key: ActivityKey): boolean {
    const when = this.issued.get(keyOf(key));
    return when !== undefined && this.now() - when < REMEMBER_MS;
  }

  get size(): number {
    return this.issued.size;
  }
}

function keyOf(k: ActivityKey): string {
  return `${k.workflowId}\0${k.runId}\0${k.activityId}`;
}
