// Region-side activities: the database work workflows ask for. Each is idempotent: Temporal runs
// an activity again after a worker crash or a timeout, so every write checks what is there first.
import { ApplicationFailure, asyncLocalStorage } from '@temporalio/activity';
import type { DataSource, EntityManager } from 'typeorm';
import type {
  EventInput,
  NextNetboot,
  FinishInput,
  PowerOutcomeInput,
  RecordEventsInput,
  RegionActivities,
  ResumeInput,
  ResumeResult,
  TransitionInput,
  TransitionResult,
} from '../../contracts/activities';
import { canTransition, MachineStatus as S, type MachineStatus } from '../../contracts/lifecycle';
import type { PowerState } from '../../contracts/workflows';
import { MachineEntity } from '../../region/db/entities';
import { updateRows } from '../../region/db/entity-rows';
import { NotFoundError } from '../../region/errors';
import {
  recordEvent,
  recordMachineEvents,
  recordNetbootWithEvents,
  recordPowerStateWithEvents,
} from '../../region/services/events';
import type { RegionServices } from '../../region/services';
import { lastReportAge, setQuietProgress } from '../../region/services/machine-progress';
import { clearPendingStart } from '../../region/services/workflow-starts';
import {
  changeStatus,
  lockMachine,
  recordWorkflowChain,
  setWorkflowStatusMessage,
} from '../../region/services/transitions';
import { resetPoint } from './reset-point';
import { resumeOperation } from './resume';

/**
 * The activity was given up on (its workflow cancelled it while it waited, or its attempt timed
 * out; for a task-queue activity of an older run, also a worker's shutdown, which Temporal
 * retries): its cancellation is thrown, which rolls its transaction back. A given-up local
 * activity's result is dropped anyway (a timed-out attempt is retried); a claim written regardless
 * would announce a power-on the cleanup never makes.
 */
function unlessGivenUp(): void {
  const signal = asyncLocalStorage.getStore()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason;
}

/**
 * A machine deleted under a running workflow will not come back: say so once instead of letting
 * Temporal retry forever.
 */
function final<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof NotFoundError)
        throw ApplicationFailure.nonRetryable(`The machine no longer exists: ${err.message}`, 'MachineGone');
      throw err;
    }
  };
}

/**
 * beginTransition's work in its transaction: claim the machine for the workflow (or find it claimed
 * by the API's commit), with the runbook's opening netboot.
 */
async function claim(tx: EntityManager, i: TransitionInput): Promise<TransitionResult> {
  const m = await lockMachine(tx, i.systemId);
  // This start happened: its outbox row (services/workflow-starts.ts) is done with.
  if (i.claimToken !== undefined) await clearPendingStart(tx, i.systemId, i.claimToken);
  // How this workflow hears of the machine's progress (services/machine-progress.ts).
  const hearsAsWanted = () => setQuietProgress(tx, m.id, i.quietProgress === true);
  // The runbook's opening netboot, announced with the claim that lets it run (and only then).
  const open = async () => {
    if (i.opening) await recordNetbootWithEvents(tx, i.systemId, i.opening.netboot, i.opening.events);
  };
  if (m.workflowId === i.workflowId && m.status === i.to) {
    await hearsAsWanted();
    await open();
    // The API's commit claimed it; the run chain is this workflow's to record (a reset run
    // reclaims the machine by it).
    if (i.chainId !== undefined && m.workflowChain !== i.chainId) await recordWorkflowChain(tx, m.id, i.chainId);
    return { applied: true, status: m.status };
  }
  // The API's commit (or an earlier attempt of this step) claimed the machine for this start,
  // and the claim is gone: an operator moved the machine on (mark_broken, abort), and that
  // stands. Releasing keeps claim_token, so this holds on every retry.
  if (i.claimToken !== undefined && m.claimToken === i.claimToken && m.workflowId !== i.workflowId)
    return { applied: false, status: m.status };
  const claimable = i.expectFrom.includes(m.status) && (m.status === i.to || canTransition(m.status, i.to));
  if (!claimable) return { applied: false, status: m.status };
  // The API normally applied this already; a lost commit (the machine carries another
  // token) or a take-over lands here.
  await changeStatus(tx, m, {
    to: i.to,
    message: i.message,
    workflow: { id: i.workflowId, type: m.workflowType ?? '', claimToken: i.claimToken, chain: i.chainId },
  });
  await hearsAsWanted();
  await open();
  return { applied: true, status: i.to };
}

export function createRegionActivities(db: DataSource, services: Pick<RegionServices, 'release'>): RegionActivities {
  const machineId = async (systemId: string): Promise<number | null> =>
    ((await db.query(`SELECT id FROM machines WHERE system_id = $1`, [systemId])) as Array<{ id: number }>)[0]?.id ??
    null;

  const activities: RegionActivities = {
    async beginTransition(i: TransitionInput): Promise<TransitionResult> {
      return db.transaction(async (tx) => {
        const result = await claim(tx, i);
        // Nothing of a claim its workflow gave up on while it waited is written (rolled back).
        unlessGivenUp();
        return result;
      });
    },

    lastReportAge: ({ systemId }: { systemId: string }) => lastReportAge(db.manager, { systemId }),

    async finishTransition(i: FinishInput): Promise<TransitionResult> {
      return db.transaction(async (tx) => {
        const m = await lockMachine(tx, i.systemId);
        // The last power-off's outcome is a fact whatever became of the claim: recorded first, so
        // its events come before the status change's (recordPowerOutcome's statement).
        if (i.powerOutcome)
          await recordPowerStateWithEvents(tx, i.systemId, i.powerOutcome.state, i.powerOutcome.events);
        if (m.workflowId !== i.workflowId) {
          // Already finished by an earlier attempt, or an operator moved the machine on
          // (mark_broken releases it from the workflow): either way, not ours to change.
          return { applied: m.workflowId === null && m.status === i.to, status: m.status };
        }
        if (!i.expectFrom.includes(m.status) && m.status !== i.to) return { applied: false, status: m.status };
        const commissioned = i.to === S.READY && m.status === S.COMMISSIONING;
        // changeStatus places a machine that becomes READY in this same transaction: nobody can
        // allocate it in between.
        const extra = commissioned ? { commissioningPassed: true } : {};
        await changeStatus(tx, m, { to: i.to, message: i.message, workflow: null, extra });
        return { applied: true, status: i.to };
      });
    },

    async resumeOperation(i: ResumeInput): Promise<ResumeResult> {
      return resumeOperation(db, i, await resetPoint());
    },

    async recordEvent(e: EventInput): Promise<void> {
      const id = await machineId(e.systemId);
      if (id === null) return; // The machine was deleted; nothing to record against.
      await recordEvent(db.manager, id, e);
    },

    // One statement each (no transaction, no lookup of the machine first): these run in every
    // power step of every lifecycle workflow.
    async recordEvents({ systemId, events, netboot }: RecordEventsInput) {
      if (netboot) await recordNetbootWithEvents(db.manager, systemId, netboot, events);
      else await recordMachineEvents(db.manager, systemId, events);
    },

    async recordPowerOutcome(i: PowerOutcomeInput): Promise<void> {
      // The state and the events that tell it commit together: a reader never sees one without
      // the other, and a retry finds the events' dedupe keys taken.
      const { statusMessage } = i;
      if (!statusMessage) {
        await recordPowerStateWithEvents(db.manager, i.systemId, i.state, i.events);
        return;
      }
      await db.transaction(async (tx) => {
        // Nothing to record against a machine that was deleted.
        if ((await recordPowerStateWithEvents(tx, i.systemId, i.state, i.events)) === null) return;
        await setWorkflowStatusMessage(tx, i.systemId, statusMessage.workflowId, statusMessage.message);
      });
    },

    async setBootPurpose({ systemId, purpose, erase }: { systemId: string } & NextNetboot): Promise<void> {
      await updateRows(db, MachineEntity, { bootPurpose: purpose, bootErase: erase ?? '' }, 't.system_id = $1', [
        systemId,
      ]);
    },

    async recordPowerState({ systemId, state }: { systemId: string; state: PowerState }): Promise<void> {
      await updateRows(db, MachineEntity, { powerState: state }, 't.system_id = $1', [systemId]);
    },

    async setStatusMessage({
      systemId,
      workflowId,
      message,
    }: {
      systemId: string;
      workflowId: string;
      message: string;
    }): Promise<void> {
      await setWorkflowStatusMessage(db.manager, systemId, workflowId, message);
    },

    async releaseDestination({ systemId }: { systemId: string }): Promise<MachineStatus> {
      return services.release.destination(systemId);
    },

    async clearWorkloadAnnotations({ systemId }: { systemId: string }): Promise<void> {
      await services.release.clearDeployment(systemId);
    },
  };
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [name, final(fn as (...a: unknown[]) => Promise<unknown>)]),
  ) as unknown as RegionActivities;
}
