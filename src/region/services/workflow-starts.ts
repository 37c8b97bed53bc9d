// The outbox of lifecycle starts: the API commits a machine's status change together with the
// workflow start it owes (this row), then starts the workflow after the commit, so no row lock is
// held while Temporal answers. The workflow's first step (beginTransition) removes the row; a row
// still there with its machine claimed for it is a start that did not happen yet (Temporal down,
// or the region died after the commit), which a retried request or the reconciler completes.
import type { EntityManager } from 'typeorm';
import type { WorkflowType } from '../../contracts/workflows';

export interface PendingStart {
  systemId: string;
  workflowId: string;
  type: WorkflowType;
  params: unknown;
  claimToken: string;
  /**
   * What the request asked for, its effective parameters by MAAS's names (start-repeats.ts
   * compares a repeat's with them). Null for a row recorded before the column (migration 0041).
   */
  request: StartRequest | null;
}

/** An operation's effective parameters, by MAAS's names (JSON values). */
export type StartRequest = Record<string, string | boolean>;

/** In the status change's transaction: the start it owes (one per machine; a newer one replaces a stale row). */
export async function recordPendingStart(
  tx: EntityManager,
  machineId: number,
  s: Omit<PendingStart, 'systemId'>,
): Promise<void> {
  await tx.query(
    `INSERT INTO workflow_starts (machine_id, workflow_id, workflow_type, params, claim_token, request)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb)
     ON CONFLICT (machine_id) DO UPDATE
       SET workflow_id = EXCLUDED.workflow_id, workflow_type = EXCLUDED.workflow_type,
           params = EXCLUDED.params, claim_token = EXCLUDED.claim_token, request = EXCLUDED.request,
           created = now()`,
    [machineId, s.workflowId, s.type, JSON.stringify(s.params), s.claimToken, JSON.stringify(s.request)],
  );
}

/**
 * SQL: the machine aliased `m` still waits for the start recorded with its claim (the condition
 * pendingStartOf reads the row by).
 */
export const startOwedSql = (m: string) =>
  `EXISTS (SELECT 1 FROM workflow_starts s
            WHERE s.machine_id = ${m}.id AND s.workflow_id = ${m}.workflow_id AND s.claim_token = ${m}.claim_token)`;

/**
 * The start the machine still waits for: its row, while the machine is claimed by that start
 * (same workflow id and claim token). Null when there is none or the machine moved on since.
 */
export async function pendingStartOf(manager: EntityManager, systemId: string): Promise<PendingStart | null> {
  const rows: Array<{
    workflow_id: string;
    workflow_type: WorkflowType;
    params: unknown;
    claim_token: string;
    request: StartRequest | null;
  }> = await manager.query(
    `SELECT s.workflow_id, s.workflow_type, s.params, s.claim_token, s.request
         FROM workflow_starts s JOIN machines m ON m.id = s.machine_id
        WHERE m.system_id = $1 AND m.workflow_id = s.workflow_id AND m.claim_token = s.claim_token`,
    [systemId],
  );
  const r = rows[0];
  return r
    ? {
        systemId,
        workflowId: r.workflow_id,
        type: r.workflow_type,
        params: r.params,
        claimToken: r.claim_token,
        request: r.request,
      }
    : null;
}

/** The start happened (its workflow's first step, or the caller that started it): the row goes. */
export async function clearPendingStart(manager: EntityManager, systemId: string, claimToken: string): Promise<void> {
  await manager.query(
    `DELETE FROM workflow_starts s USING machines m
      WHERE m.id = s.machine_id AND m.system_id = $1 AND s.claim_token = $2`,
    [systemId, claimToken],
  );
}
