// The SQL of the power pause watcher (../power-pause-watcher.ts): machines' status_message while an
// operator has paused their power step in Temporal. The watcher's view of Temporal is a listing
// taken over a few seconds, so every write is guarded against what happened meanwhile.
import type { DataSource, EntityManager } from 'typeorm';
import { OPERATION_STATUSES } from '../../contracts/lifecycle';

/** pg_try_advisory_xact_lock key of a watcher pass ("mfpp"): one region process at a time. */
const PAUSE_WATCH_LOCK = 0x6d667070;

/** One pass's view of the machines a workflow drives, taken before Temporal was asked. */
export interface PauseMessagesPass {
  /** status_message per workflow_id of the machines in an operation, before the listing. */
  readonly before: ReadonlyMap<string, string>;
  /** Sets `message` on the workflow's machine unless its status_message changed since `before`. */
  setPaused(workflowId: string, message: string): Promise<void>;
  /** Clears messages carrying `mark` on machines a workflow still drives, but not those in `pausedWorkflowIds`. */
  clearOthers(mark: string, pausedWorkflowIds: readonly string[]): Promise<void>;
}

export class PowerPauseMessagesService {
  constructor(private readonly db: DataSource) {}

  /**
   * Runs `pass` if no other region process is running one (a transaction-scoped advisory lock, so
   * a process that dies lets go); resolves undefined when another one is. Every region runs the
   * watcher, so one of them does the Temporal listing and the writes each interval, not all.
   */
  async exclusively<T>(pass: (p: PauseMessagesPass) => Promise<T>): Promise<T | undefined> {
    return this.db.transaction(async (tx) => {
      const [lock] = (await tx.query(`SELECT pg_try_advisory_xact_lock($1) AS got`, [PAUSE_WATCH_LOCK])) as Array<{
        got: boolean;
      }>;
      if (!lock?.got) return undefined;
      return pass(await this.snapshot(tx));
    });
  }

  private async snapshot(tx: EntityManager): Promise<PauseMessagesPass> {
    const rows: Array<{ workflow_id: string; status_message: string }> = await tx.query(
      `SELECT workflow_id, status_message FROM machines
        WHERE workflow_id IS NOT NULL AND status = ANY($1::smallint[])`,
      [OPERATION_STATUSES],
    );
    const before = new Map(rows.map((r) => [r.workflow_id, r.status_message]));
    return {
      before,
      setPaused: async (workflowId, message) => {
        if (!before.has(workflowId)) return;
        // Still claimed by that workflow, still in an operation, and status_message still what it
        // was before Temporal was asked: an unpause since then, and the workflow's own message
        // after it, must not be overwritten by what the listing said.
        await tx.query(
          `UPDATE machines SET status_message = $2
            WHERE workflow_id = $1 AND status = ANY($3::smallint[])
              AND status_message IS NOT DISTINCT FROM $4 AND status_message IS DISTINCT FROM $2`,
          [workflowId, message, OPERATION_STATUSES, before.get(workflowId)],
        );
      },
      clearOthers: async (mark, pausedWorkflowIds) => {
        // Only machines a workflow drives (a status change, which ends one, rewrites the message
        // anyway), and only a message that still carries the mark: one the workflow wrote since
        // the unpause is left alone.
        await tx.query(
          `UPDATE machines SET status_message = ''
            WHERE workflow_id IS NOT NULL AND workflow_id <> ALL($2::text[])
              AND status_message LIKE '%' || $1 || '%'`,
          [mark, pausedWorkflowIds],
        );
      },
    };
  }
}
