// Which of the reconciler's candidates it may leave alone this pass without asking Temporal of
// each: those Temporal's visibility lists as running (a few list calls for a thousand long
// deployments, where asking is a describe each, every pass). Visibility is a copy that can be
// wrong: it lags a close by a moment, and one restored apart from Temporal's own database, or far
// behind it, can go on listing a run that ended. So a listing is trusted for a while only: a
// workflow listed for longer than trustMs is asked once, then trusted again.
import type { WorkflowGateway } from './services/workflow-gateway';

/** How long a workflow visibility lists as running is left alone before it is asked anyway. */
export const DEFAULT_LISTING_TRUST_MS = 5 * 60_000;

export class RunningListing {
  /** When each workflow skipped in the last pass was first skipped (in this period of trust). */
  private skippedSince = new Map<string, number>();
  /** The reason the last listing failed, logged once until a listing succeeds or fails otherwise. */
  private lastFailure: string | undefined;

  constructor(
    private readonly workflows: Pick<WorkflowGateway, 'listedRunning' | 'knownUnavailable'>,
    private readonly trustMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Of the candidates' workflows, those to leave alone this pass (none when nothing can be listed). */
  async skippable(workflowIds: readonly string[], now = Date.now()): Promise<ReadonlySet<string>> {
    const listed = await this.listed(workflowIds);
    const skip = new Set<string>();
    const next = new Map<string, number>();
    for (const id of workflowIds) {
      if (!listed.has(id)) continue;
      const since = this.skippedSince.get(id) ?? now;
      // Trusted past its time: asked this pass, and trusted anew from the next listing on.
      if (now - since >= this.trustMs) continue;
      skip.add(id);
      next.set(id, since);
    }
    this.skippedSince = next;
    return skip;
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
