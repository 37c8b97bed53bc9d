// Nothing may strand a machine in an operation's in-progress status (the lifecycle table): a
// workflow that was terminated, timed out, or vanished (a reset Temporal database) leaves the
// machine with no driver. The reconciler finds such machines and fails them with a status_message
// that says what happened.
import type { DataSource } from 'typeorm';
import { labelOf, MachineStatus as S, operationIn } from '../contracts/lifecycle';
import { lifecycleWorkflowId } from '../contracts/workflows';
import { DEFAULT_LISTING_TRUST_MS, RunningListing } from './running-listing';
import { lockIfUnchanged, strandedMachines, type StrandedMachine } from './services/stranded-machines';
import { changeStatus } from './services/transitions';
import { clearPendingStart, pendingStartOf } from './services/workflow-starts';
import type { WorkflowGateway, WorkflowState } from './services/workflow-gateway';

const DESCRIBE: Record<Exclude<WorkflowState, 'running'>, string> = {
  completed: 'completed without recording an outcome',
  failed: 'failed',
  cancelled: 'was cancelled before it could clean up',
  terminated: 'was terminated',
  timed_out: 'timed out',
  continued: 'continued as new',
  not_found: 'no longer exists',
};

export interface ReconcilerOptions {
  /** Leave machines alone this long after their last change (a workflow may be starting). */
  graceMs: number;
  log: (line: string) => void;
  /** How long a workflow visibility lists as running is left alone before it is asked anyway. */
  listingTrustMs?: number;
}

export class Reconciler {
  private readonly listing: RunningListing;

  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly o: ReconcilerOptions,
  ) {
    this.listing = new RunningListing(workflows, o.listingTrustMs ?? DEFAULT_LISTING_TRUST_MS, o.log);
  }

  /** One pass; returns the system_ids it failed. */
  async reconcile(): Promise<string[]> {
    const failed: string[] = [];
    const stranded = await strandedMachines(this.db.manager, this.o.graceMs);
    const workflowIdOf = (seen: StrandedMachine) => seen.workflowId ?? lifecycleWorkflowId(seen.systemId);
    const skippable = await this.listing.skippable(stranded.map(workflowIdOf));
    for (const seen of stranded) {
      const workflowId = workflowIdOf(seen);
      // Listed as running (and not for too long): left alone this pass. Visibility may lag a
      // close by a moment; a later pass then finds it closed. The rest are asked one by one.
      if (skippable.has(workflowId)) continue;
      // Asked before the machine's row lock is taken, never under it: with Temporal down this
      // takes seconds of retries, and every API write, report and activity on the machine would
      // wait for them.
      const state = await this.workflows.state(workflowId);
      this.listing.asked(workflowId);
      if (state === 'running') continue;
      // A start the API committed but Temporal never took (down, or the region died in between):
      // start it now rather than fail the machine.
      if (await this.startPending(seen.systemId)) continue;
      const message = `Workflow ${workflowId} ${DESCRIBE[state]}; the ${labelOf(seen.status).toLowerCase()} operation did not finish.`;
      if (await this.fail(seen, message)) {
        failed.push(seen.systemId);
        this.o.log(`reconciler: failed ${seen.systemId} (${labelOf(seen.status)}): workflow ${state}`);
      }
    }
    return failed;
  }

  /** Start the machine's pending workflow start, if it has one; true when there was one. */
  private async startPending(systemId: string): Promise<boolean> {
    const pending = await pendingStartOf(this.db.manager, systemId);
    if (!pending) return false;
    try {
      await this.workflows.start(pending.type, pending.workflowId, pending.params as never);
      await clearPendingStart(this.db.manager, systemId, pending.claimToken);
      this.o.log(`reconciler: started the pending ${pending.type} of ${systemId}`);
    } catch (err) {
      this.o.log(`reconciler: the pending ${pending.type} of ${systemId} did not start: ${(err as Error).message}`);
    }
    return true;
  }

  /**
   * Fail the machine if nothing touched it since the scan read it. A reset of the ended run
   * (`temporal workflow reset`, a retry) starts a new run under the same workflow ID whose first
   * step reclaims the machine under this lock, moving `updated`: a reset run that resumed after
   * Temporal was asked is never fought (the machine changed, so it is skipped), and one that
   * resumes after this failure finds the machine in the failure status with its run chain, where
   * it takes it back from.
   */
  private async fail(seen: StrandedMachine, message: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const m = await lockIfUnchanged(tx, seen);
      if (m === null) return false;
      // The operation's failure destination in the lifecycle table.
      const to = operationIn(m.status)?.failTo ?? S.BROKEN;
      await changeStatus(tx, m, { to, message, workflow: null, event: { level: 'ERROR' } });
      return true;
    });
  }

  /** Run a pass every `intervalMs` until stopped. */
  start(intervalMs: number): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const loop = async () => {
      try {
        await this.reconcile();
      } catch (err) {
        this.o.log(`reconciler: ${(err as Error).message}`);
      }
      if (!stopped) timer = setTimeout(loop, intervalMs);
    };
    timer = setTimeout(loop, intervalMs);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }
}
