// `temporal workflow reset` of a lifecycle workflow is a retry: the reset run asks for its machine
// back before its first new step. It gets it only while the machine is where this workflow's run
// chain left it; a machine that moved on since (deleted, another operation, a user action) is
// refused with the reason, and nothing changes.
import type { DataSource } from 'typeorm';
import type { ResumeInput, ResumeResult } from '../../contracts/activities';
import { canTransition, labelOf, MachineStatus as S, type MachineStatus } from '../../contracts/lifecycle';
import type { Machine } from '../../region/db/entities';
import { recordEvent } from '../../region/services/events';
import { changeStatus, lockMachine, touchMachine } from '../../region/services/transitions';

export async function resumeOperation(db: DataSource, i: ResumeInput, point: string): Promise<ResumeResult> {
  return db.transaction(async (tx) => {
    const m = await lockMachine(tx, i.systemId);
    const refusal = refusalOf(m, i);
    if (refusal !== null) return { applied: false, status: m.status, reason: refusal, runId: i.runId };
    if (!i.registration && (m.status !== i.to || m.workflowId !== i.workflowId)) {
      const path = pathBack(m.status, i);
      if (path === null) {
        const reason = `${labelOf(m.status)} cannot return to ${labelOf(i.to)}; not retried.`;
        return { applied: false, status: m.status, reason, runId: i.runId };
      }
      // The claim as the API's start made it: same token, this workflow, the run chain kept.
      const workflow = {
        id: i.workflowId,
        type: m.workflowType ?? '',
        claimToken: m.claimToken ?? undefined,
        chain: i.chainId,
      };
      let current = m;
      for (const to of path) current = await changeStatus(tx, current, { to, message: '', workflow });
    } else {
      // Already back (a terminated run the reconciler had not failed yet, or this step retried):
      // `updated` moves, so a reconciler pass that saw the old run end leaves it alone.
      await touchMachine(tx, m.id);
    }
    await recordEvent(tx, m.id, {
      type: i.operation,
      description: `Retried from Temporal (${point}).`,
      level: 'INFO',
      dedupeKey: `${i.workflowId}/${i.runId}/resume`,
    });
    return { applied: true, status: i.to, reason: '', runId: i.runId };
  });
}

/** The status changes back to the in-progress status: straight there, or through a start status. */
function pathBack(from: MachineStatus, i: ResumeInput): MachineStatus[] | null {
  if (from === i.to || canTransition(from, i.to)) return [i.to];
  const via = i.startFrom.find((s) => canTransition(from, s) && canTransition(s, i.to));
  return via === undefined ? null : [via, i.to];
}

/** Why the reset run may not have the machine back; null when it may. */
function refusalOf(m: Machine, i: ResumeInput): string | null {
  const now = `it is ${labelOf(m.status)} now`;
  if (i.registration) {
    // Registered DEPLOYED and never changed since: no claim, no status of its own to return to.
    const untouched =
      m.status === S.DEPLOYED && m.previousStatus === S.DEPLOYED && m.workflowId === null && m.workflowChain === null;
    return untouched ? null : `${m.hostname} has changed since it was registered (${now}); not retried.`;
  }
  // Ended before its first step recorded the chain: the machine still carries its start's token
  // and no chain. Only that: a user's status change since leaves MOVED_ON (transitions.ts), not
  // NULL, though the token stays. (The workflow ID names the machine, not the run, so it cannot
  // tell this start's runs from a later one's.)
  const startedByUs = m.workflowChain === null && i.claimToken !== undefined && m.claimToken === i.claimToken;
  if (m.workflowChain !== i.chainId && !startedByUs) {
    return `${m.hostname} has moved on since this ${i.operation.toLowerCase()} (another operation or a user action; ${now}); not retried.`;
  }
  const stillOurs = m.workflowId === i.workflowId && m.status === i.to;
  const leftByUs = m.workflowId === null && i.leftIn.includes(m.status);
  if (stillOurs || leftByUs) return null;
  return `${m.hostname} has moved on since this ${i.operation.toLowerCase()} (${now}); not retried.`;
}
