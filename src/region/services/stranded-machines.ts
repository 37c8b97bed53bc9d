// The reconciler's reads: machines in an operation's in-progress status that nothing has touched
// for a while, and, once Temporal has said their workflow is gone, the row lock on one of them
// only if it is still exactly as read (src/region/reconciler.ts).
import type { EntityManager } from 'typeorm';
import { OPERATION_STATUSES, type MachineStatus } from '../../contracts/lifecycle';
import type { Machine } from '../db/entities';
import { lockMachine } from './transitions';

/** A machine as the scan read it. */
export interface StrandedMachine {
  systemId: string;
  status: MachineStatus;
  workflowId: string | null;
  workflowChain: string | null;
  /** machines.updated as PostgreSQL's text, to the microsecond (a JS Date keeps milliseconds). */
  updated: string;
}

/** Machines in an in-progress status, unchanged for graceMs. */
export async function strandedMachines(manager: EntityManager, graceMs: number): Promise<StrandedMachine[]> {
  const rows: Array<{
    system_id: string;
    status: MachineStatus;
    workflow_id: string | null;
    workflow_chain: string | null;
    updated: string;
  }> = await manager.query(
    `SELECT system_id, status, workflow_id, workflow_chain, updated::text AS updated FROM machines
      WHERE status = ANY($1::smallint[]) AND updated < now() - make_interval(secs => $2)`,
    [OPERATION_STATUSES, graceMs / 1000],
  );
  return rows.map((r) => ({
    systemId: r.system_id,
    status: r.status,
    workflowId: r.workflow_id,
    workflowChain: r.workflow_chain,
    updated: r.updated,
  }));
}

/**
 * Lock the machine if it is still as `seen` (status, claim, run chain, and `updated`, which every
 * write moves: a reset run's resume moves it even when it changes nothing else); null when it
 * changed or is gone. Waits for a lock another transaction holds, then compares.
 */
export async function lockIfUnchanged(manager: EntityManager, seen: StrandedMachine): Promise<Machine | null> {
  const same: unknown[] = await manager.query(
    `SELECT 1 FROM machines
      WHERE system_id = $1 AND updated = $2::timestamptz AND status = $3
        AND workflow_id IS NOT DISTINCT FROM $4 AND workflow_chain IS NOT DISTINCT FROM $5
      FOR NO KEY UPDATE`,
    [seen.systemId, seen.updated, seen.status, seen.workflowId, seen.workflowChain],
  );
  return same.length === 0 ? null : lockMachine(manager, seen.systemId);
}
