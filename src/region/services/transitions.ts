// Every status change of a machine, from the API and from workflows, is written here, after the
// lifecycle table (src/contracts/lifecycle.ts) said yes.
import type { EntityManager } from 'typeorm';
import { assertTransition, labelOf, MachineStatus as S } from '../../contracts/lifecycle';
import { MachineEntity, type Machine } from '../db/entities';
import { selectOne, updateRows } from '../db/entity-rows';
import { NotFoundError } from '../errors';
import { recordEvent } from './events';
import { applyPlacement } from './placement';

/**
 * Load a machine and hold its row lock until the transaction ends. FOR NO KEY UPDATE, not FOR
 * UPDATE: inserting an event for the machine (a foreign-key check) must not wait for it.
 */
export async function lockMachine(manager: EntityManager, systemId: string): Promise<Machine> {
  const machine = await selectOne(manager, MachineEntity, 't.system_id = $1', [systemId], 'FOR NO KEY UPDATE');
  if (!machine) throw new NotFoundError(`No Machine matches the given query.`);
  return machine;
}

/**
 * machines.workflow_chain after a status change no workflow made: no run chain (a Temporal run
 * ID, a UUID) equals it, and it is not NULL, so no earlier workflow's reset reclaims the machine.
 */
export const MOVED_ON = 'moved-on';

export interface StatusChange {
  to: S;
  message?: string;
  /**
   * The workflow that drives the machine from now on, with the token of the start that claims it
   * (none for a take-over); null releases the machine from any and keeps the token, the sign
   * that this claim was released (see beginTransition). `chain`: the workflow's run chain
   * (Temporal's original run ID), which a reset run of it must still find to reclaim the machine.
   */
  workflow?: { id: string; type: string; claimToken?: string; chain?: string } | null;
  extra?: Partial<Machine>;
  event?: { type?: string; description?: string; level?: 'INFO' | 'WARNING' | 'ERROR' | 'AUDIT' };
}

/**
 * Apply a checked status change to a locked machine and record it as an event. Becoming READY
 * (from anywhere: commissioning, release, mark_fixed) applies the placement rules first, in the
 * same transaction, so the machine is never READY and unplaced.
 */
export async function changeStatus(manager: EntityManager, machine: Machine, change: StatusChange): Promise<Machine> {
  if (machine.status !== change.to) assertTransition(machine.status, change.to);
  const placed = change.to === S.READY && machine.status !== S.READY ? await applyPlacement(manager, machine) : {};
  const patch: Partial<Machine> = {
    ...placed,
    ...change.extra,
    status: change.to,
    previousStatus: machine.status === change.to ? machine.previousStatus : machine.status,
    statusMessage: change.message ?? '',
  };
  if (change.workflow !== undefined) {
    patch.workflowId = change.workflow?.id ?? null;
    patch.workflowType = change.workflow?.type ?? machine.workflowType;
    if (change.workflow) {
      patch.claimToken = change.workflow.claimToken ?? null;
      patch.workflowChain = change.workflow.chain ?? null;
    }
  } else if (machine.status !== change.to) {
    // A status change no workflow made (a user action): a reset of the last workflow must not undo
    // it. Not NULL: the machine keeps the last start's claim_token (beginTransition needs it), and
    // a NULL chain with that token is how a run that ended before recording its chain reclaims
    // the machine (resume.ts), so a NULL here would let that start's reset past this change.
    patch.workflowChain = MOVED_ON;
  }
  await updateRows(manager, MachineEntity, patch, 't.id = $1', [machine.id]);
  if (machine.status !== change.to) {
    await recordEvent(manager, machine.id, {
      type: change.event?.type ?? labelOf(change.to),
      description:
        change.event?.description ?? (change.message || `${labelOf(machine.status)} -> ${labelOf(change.to)}.`),
      level: change.event?.level ?? 'INFO',
    });
  }
  return { ...machine, ...patch };
}

/**
 * Record the run chain (Temporal's original run ID) of the workflow that holds the machine, which
 * a reset run of that workflow must find to reclaim it. `updated` is left alone: the API's start
 * that made this claim moved it already.
 */
export async function recordWorkflowChain(manager: EntityManager, machineId: number, chain: string): Promise<void> {
  await manager.query(`UPDATE machines SET workflow_chain = $2 WHERE id = $1`, [machineId, chain]);
}

/**
 * Move `updated` without changing anything else: the reconciler skips a machine whose `updated`
 * moved since it read it (a reset run that took back a machine already in its status).
 */
export async function touchMachine(manager: EntityManager, machineId: number): Promise<void> {
  await manager.query(`UPDATE machines SET updated = now() WHERE id = $1`, [machineId]);
}

/** A workflow's status_message, only while it still drives the machine: a stale one must not overwrite it. */
export async function setWorkflowStatusMessage(
  manager: EntityManager,
  systemId: string,
  workflowId: string,
  message: string,
): Promise<void> {
  await manager.query(
    `UPDATE machines SET status_message = $3, updated = now() WHERE system_id = $1 AND workflow_id = $2`,
    [systemId, workflowId, message],
  );
}
