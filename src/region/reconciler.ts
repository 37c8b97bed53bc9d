// Nothing may strand a machine in an operation's in-progress status (the lifecycle table): a
// workflow that was terminated, timed out, or vanished (a reset Temporal database) leaves the
// machine with no driver. The reconciler finds such machines and fails them with a status_message
// that says what happened.
import type { DataSource } from 'typeorm';
import {
  labelOf,
  MachineStatus as S,
  OPERATION_STATUSES,
  operationIn,
  type MachineStatus,
} from '../contracts/lifecycle';
import { lifecycleWorkflowId } from '../contracts/workflows';
import { changeStatus, lockMachine } from './services/transitions';
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
}

export class Reconciler {
  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly o: ReconcilerOptions,
  ) {}

  /** One pass; returns the system_ids it failed. */
  async reconcile(): Promise<string[]> {
    const rows: Array<{ system_id: string; status: MachineStatus; workflow_id: string | null }> = await this.db.query(
      `SELECT system_id, status, workflow_id FROM machines
        WHERE status = ANY($1::smallint[]) AND updated < now() - make_interval(secs => $2)`,
      [OPERATION_STATUSES, this.o.graceMs / 1000],
    );
    const failed: string[] = [];
    for (const row of rows) {
      const workflowId = row.workflow_id ?? lifecycleWorkflowId(row.system_id);
      const state = await this.workflows.state(workflowId);
      if (state === 'running') continue;
      if (
        await this.fail(
          row.system_id,
          row.workflow_id,
          workflowId,
          `Workflow ${workflowId} ${DESCRIBE[state]}; the ${labelOf(row.status).toLowerCase()} operation did not finish.`,
        )
      ) {
        failed.push(row.system_id);
        this.o.log(`reconciler: failed ${row.system_id} (${labelOf(row.status)}): workflow ${state}`);
      }
    }
    return failed;
  }

  private async fail(
    systemId: string,
    workflowId: string | null,
    lifecycleId: string,
    message: string,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      // Re-checked under the row lock: the machine may have moved on since the scan.
      if (m.workflowId !== workflowId || !OPERATION_STATUSES.includes(m.status)) return false;
      // A reset of the ended run (`temporal workflow reset`, a retry) starts a new run under the
      // same workflow ID, which reclaims the machine under this lock: asked again while holding
      // it, a reset run that exists by now is never fought.
      if ((await this.workflows.state(lifecycleId)) === 'running') return false;
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
