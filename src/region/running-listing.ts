// Which of the reconciler's candidates it may leave alone this pass without asking Temporal of
// each: those Temporal's visibility lists as running (a few list calls for a thousand long
// deployments, where asking is a describe each, every pass). Visibility is a copy that can be
// wrong: it lags a close by a moment, and one restored apart from Temporal's own database, or far
// behind it, can go on listing a run that ended. So a listing is trusted for a while only: a
// workflow listed for longer than trustMs is asked once, then trusted again. All candidates that
// became candidates in one pass run out of trust in one pass too: every trustMs, one pass asks
// them all, as every pass did before.
import type { WorkflowGateway } from './services/workflow-gateway';

/** How long a workflow visibility lists as running is left alone before it is asked anyway. */
export const DEFAULT_LISTING_TRUST_MS = 5 * 60_000;

export class RunningListing {
  /**
   * Per workflow listed as running: since when it is trusted (this period of trust) and when it was
   * last a listed candidate. Kept while the machine drops out of the candidates for a while (any
   * write restarts its grace), so coming back does not restart its trust.
   */
  private readonly trusted = new Map<string, { since: number; seen: number }>();
  /** The reason the last listing failed, logged once until a listing succeeds or fails otherwise. */
  private lastFailure: string | undefined;

  constructor(
    private readonly workflows: Pick<WorkflowGateway, 'listedRunning' | 'knownUnavailable'>,
    private readonly trustMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Of the candidates' workflows, those to leave alone this pass (none when nothing can be listed).
   * `now` is a monotonic clock's milliseconds (a stepped wall clock must not stretch the trust).
   */
  async skippable(workflowIds: readonly string[], now = performance.now()): Promise<ReadonlySet<string>> {
    const listed = await this.listed(workflowIds);
    const skip = new Set<string>();
    for (const id of workflowIds) {
      if (!listed.has(id)) continue;
      const entry = this.trusted.get(id) ?? { since: now, seen: now };
      entry.seen = now;
      this.trusted.set(id, entry);
      // Trusted past its time: left to be asked, and trusted anew only once it was (asked()).
      if (now - entry.since < this.trustMs) skip.add(id);
    }
    // A workflow no longer among the candidates for long (its machine left the operation).
    for (const [id, entry] of this.trusted) if (now - entry.seen > 2 * this.trustMs) this.trusted.delete(id);
    return skip;
  }

  /** Temporal was asked of this workflow: a new period of trust starts at its next listing. */
  asked(workflowId: string): void {
    this.trusted.delete(workflowId);
  }

  private async listed(workflowIds: readonly string[]): Promise<ReadonlySet<string>> {
    // Temporal known to be away: each candidate is asked as before, and the first ask says so.
    if (workflowIds.length === 0 || !this.workflows.listedRunning || this.workflows.knownUnavailable?.())
      return new Set();
    try {
      const running = await this.workflows.listedRunning(workflowIds);
      this.lastFailure = undefined;
      return running;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (reason !== this.lastFailure)
        this.log(`reconciler: listing the running workflows failed, asking each: ${reason}`);
      this.lastFailure = reason;
      return new Set();
    }
  }
}
