// `temporal workflow reset` of a lifecycle workflow is a retry. The reset run replays the history
// up to the reset point, when the machine was still claimed; since then the old run released it
// (its failure or abort status, the reconciler). Before the reset run's first new step acts on the
// machine, it asks for the machine back (the region's resumeOperation): refused when the machine
// has moved on, and then the run fails at once, leaving it untouched.
import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import type { ResumeInput } from '../contracts/activities';
import { region } from './activities';

/**
 * The n-th resume of a run chain is a patch marker `reset-resume-<n>`: a replay (a worker's cache
 * evicted, or a later reset replaying this run's history) finds each resume where it was recorded,
 * and a step that runs for the first time (past the reset point) gets a new one.
 */
export const RESET_RESUME_PATCH = 'reset-resume';

/** The failure type of a refused resume: the machine moved on, so the run ends without cleanup. */
export const RESET_REFUSED = 'ResetRefused';

export function isResetRefused(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === RESET_REFUSED;
}

export class ResetClaim {
  private readonly info = workflowInfo();
  /** A reset run has a run ID of its own; the started event keeps the chain's original one. */
  private readonly isReset = this.info.runId !== this.info.originalExecutionRunId;
  /** Resumes met in this run's history so far (earlier resets' included). */
  private resumes = 0;
  /** This run has its claim back (a resume recorded by this run, not a replayed earlier reset's). */
  private resumedHere = false;
  private inFlight: Promise<boolean> | undefined;
  /** A refusal stands for the rest of the run: no later step may act on the machine. */
  private refused: unknown;
  private readonly onResumed: Array<() => void> = [];

  constructor(private readonly input: () => Omit<ResumeInput, 'chainId' | 'runId'>) {}

  /** Run `fn` each time the machine is resumed (e.g. forget the reports from before the retry). */
  whenResumed(fn: () => void): void {
    this.onResumed.push(fn);
  }

  /** The chain every run of this workflow shares, recorded on the machine it claims. */
  get chainId(): string {
    return this.info.originalExecutionRunId;
  }

  /**
   * Before a step that acts on the machine: in a reset run, past the reset point, claim it back
   * (once). True when this call resumed (a replayed earlier resume counts: the caller's next step
   * must be the same as when it was recorded). Throws ResetRefused when the machine moved on.
   */
  async reclaim(): Promise<boolean> {
    if (this.refused !== undefined) throw this.refused;
    // A replay asks the history whatever the run (a replayer's run ID is not the recorded one):
    // a recorded resume's marker must meet its patched() call. Live, only a reset run resumes.
    if (this.resumedHere || !(this.isReset || workflowInfo().unsafe.isReplaying)) return false;
    if (this.inFlight) {
      await this.inFlight;
      return false;
    }
    const n = this.resumes + 1;
    if (!patched(`${RESET_RESUME_PATCH}-${n}`)) return false;
    this.resumes = n;
    this.inFlight = this.resume();
    try {
      return await this.inFlight;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async resume(): Promise<true> {
    const result = await region.resumeOperation({
      ...this.input(),
      chainId: this.chainId,
      runId: this.info.runId,
    });
    if (!result.applied) {
      this.refused = ApplicationFailure.nonRetryable(result.reason, RESET_REFUSED);
      throw this.refused;
    }
    // The recorded result names the run that resumed: a replayed earlier reset's resume leaves this
    // run still to claim the machine at its own reset point.
    if (result.runId === this.info.runId) this.resumedHere = true;
    for (const fn of this.onResumed) fn();
    return true;
  }
}
