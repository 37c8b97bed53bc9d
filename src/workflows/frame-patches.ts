// The operation frame's patches (workflows/frame.ts): each changed the commands every lifecycle
// workflow issues, so workflows started before it replay their histories without it.
import { patched } from '@temporalio/workflow';

/**
 * Power actions record events (OperationFrame.power) since this patch; a workflow that started before
 * it replays its history without them, so a region upgraded mid-operation carries it on.
 */
export const POWER_EVENTS_PATCH = 'power-events';

/**
 * The frame's database writes run as local activities, and a power step records its state and
 * the events that tell it in one transaction, since this patch (issue 17: Temporal round trips per
 * commissioning from 13 activity tasks down to 5: the rack's 3, beginTransition and
 * finishTransition). Workflows started before it replay their region activities as they were
 * recorded. The claim and the outcome stay task-queue activities: a cancel or a terminate reaches
 * the workflow while its claim waits for the machine's row lock (a local activity holds its
 * workflow task until it ends), and a reset to the last workflow task lands after the outcome.
 */
export const FEWER_ROUND_TRIPS_PATCH = 'fewer-round-trips';

/**
 * Fewer history events per operation since this patch (issue 17): a netboot's boot preparation
 * runs in the rack's power-on activity (one activity task and one workflow task fewer); a search
 * attribute the run already has (the identity and the in-progress status the API started it
 * with) is not upserted again; the machine's progress reports are kept by the region rather than
 * signalled (the claim says quietProgress), and a wait reads the last one when its deadline comes
 * (signals.ts). Workflows started before it replay as they were recorded.
 */
export const LEANER_HISTORY_PATCH = 'leaner-history';

/**
 * One patch marker per run since this patch (issue 17), where there were three: every patch a
 * run decides costs a marker and an upsert of Temporal's TemporalChangeVersion search attribute
 * (a visibility write), so a run that has this one takes the three above as given without
 * asking for them. And the claim (beginTransition, and an advance to the next operation) runs as
 * a local activity in the workflow task that decides it: one activity task and one workflow task
 * fewer. A cancel that comes while the claim waits for the machine's row lock then reaches the
 * workflow once the claim ends, or when the worker heartbeats the workflow task (at most ~8 s).
 * Workflows started before it replay their three markers and their task-queue claim.
 */
export const LEAN_START_PATCH = 'lean-start';

/**
 * A run that succeeds records its outcome (finishTransition) as a local activity in the workflow
 * task that decides it, since this patch (issue 17): one activity task and one workflow task fewer
 * per succeeded run. A failure or an abort still records it as a task-queue activity, so that
 * `temporal workflow reset --type LastWorkflowTask` of a failed run lands after it and runs the
 * operation again (frame.ts finish); a reset of a succeeded run is refused either way (its
 * machine moved on). And a netboot's boot purpose is written with its power-on's announcements,
 * in their local activity and statement (steps.ts netboot): one local activity fewer per netboot.
 * A run that has this patch takes the four above as given without asking, so it still records
 * one marker. Workflows started before it replay their task-queue outcome and boot purpose.
 */
export const LEAN_FINISH_PATCH = 'lean-finish';

/**
 * A runbook whose last step is a power-off (OperationFrame.powerOffToClose: commissioning, test)
 * records that power-off's outcome with the run's, in finishTransition's local activity and
 * transaction, since this patch (issue 17): one local activity (its marker) fewer per run. Until
 * the run's outcome the power-off's waits in the frame; any other write of the frame records it
 * first, so a failure after it (the stop's power-off) tells it in order. A cancel that arrives as
 * the power-off completes no longer aborts the run: nothing is scheduled between the power-off
 * and the outcome, which cannot be cancelled. A run that has this patch takes the five above as
 * given without asking, so it still records one patch marker. Workflows started before it replay
 * their separate recordPowerOutcome.
 */
export const LEAN_CLOSE_PATCH = 'lean-close';

/**
 * A runbook that opens with a netboot (FramePlan.opensWith: commissioning, testing, deployment)
 * records that netboot's announcements and boot purpose with its claim, in beginTransition's local
 * activity and transaction, since this patch (issue 17): one local activity (its marker and its
 * activation) fewer per run. The claim records them only when it applies, so a run refused its
 * machine announces nothing, as before, and so does a claim the workflow gave up on (a cancel
 * reached it while the claim waited: the cleanup's power-off then announces itself). A run that
 * has this patch takes the six above as given without asking, so it still records one patch
 * marker. Workflows started before it replay their separate recordEvents.
 */
export const LEAN_OPEN_PATCH = 'lean-open';

/** The frame's patches a run has (POWER_EVENTS_PATCH aside: the first power step asks it). */
export interface FramePatches {
  leanOpen: boolean;
  leanClose: boolean;
  leanFinish: boolean;
  leanStart: boolean;
  fewerTrips: boolean;
  leaner: boolean;
}

/**
 * Ask for the frame's patches, once, before a run's first command: the newest (LEAN_OPEN_PATCH)
 * first, and a run that has it takes the others as given without asking (each ask is a marker and
 * a search attribute upsert); an older run asks LEAN_CLOSE_PATCH next, and so on down;
 * LEAN_START_PATCH implies the two before it. The order of the asks is part of every recorded
 * history.
 */
export function framePatches(): FramePatches {
  const leanOpen = patched(LEAN_OPEN_PATCH);
  const leanClose = leanOpen || patched(LEAN_CLOSE_PATCH);
  const leanFinish = leanClose || patched(LEAN_FINISH_PATCH);
  const leanStart = leanFinish || patched(LEAN_START_PATCH);
  const fewerTrips = leanStart || patched(FEWER_ROUND_TRIPS_PATCH);
  const leaner = leanStart || patched(LEANER_HISTORY_PATCH);
  return { leanOpen, leanClose, leanFinish, leanStart, fewerTrips, leaner };
}
