// A lifecycle power step since FEWER_ROUND_TRIPS_PATCH (frame-patches.ts): the same events and
// state as before, written in two local activities (the announcements before the BMC is asked;
// its outcome with the state after), or fewer where a later patch records them with another write.
import { isCancellation } from '@temporalio/workflow';
import type { PowerActionResult, PowerOutcomeInput } from '../contracts/activities';
import { powerStepsOf, regionLocal } from './activities';
import { powerAnnouncements, type Opening } from './frame-opening';
import type { NetbootStep, NextEvent } from './frame-plan';
import { asPowerResult, bmcReason, byHandMessage, POWER_DONE, POWER_FAILED, POWER_STARTING } from './power-events';

/** What a power step needs of its frame (OperationFrame.powerStepFrame). */
export interface PowerStepFrame {
  systemId: string;
  hostname: string;
  rackQueue: string;
  powerWithinMs?: number;
  workflowId: string;
  /** LEAN_FINISH_PATCH: a netboot's boot purpose is written with its announcements. */
  bootPurposeWithAnnouncements: boolean;
  /** LEAN_OPEN_PATCH: the opening netboot's announcements went with the claim. */
  opening: Opening;
  nextEvent: NextEvent;
  /** Before the announcements: a closing outcome still waiting first, and a reset run's reclaim. */
  reclaimIfReset(): Promise<void>;
  /** Once the BMC answered: a reset run's reclaim. */
  reclaim(): Promise<unknown>;
}

/** What the BMC did, and (for the runbook's closing power-off) the outcome the run's finish records. */
export interface PowerStep {
  result: PowerActionResult;
  closing?: Pick<PowerOutcomeInput, 'state' | 'events'>;
}

/**
 * OperationFrame.power since FEWER_ROUND_TRIPS_PATCH. A failure is recorded at once and rethrown;
 * `closing` (LEAN_CLOSE_PATCH): a success's outcome is returned for the run's finish to record.
 */
export async function powerInOneWrite(
  f: PowerStepFrame,
  action: 'on' | 'off',
  announce?: string,
  netboot?: NetbootStep,
  closing = false,
): Promise<PowerStep> {
  const { systemId, hostname } = f;
  const rack = powerStepsOf(f.rackQueue, f.powerWithinMs);
  await f.reclaimIfReset();
  // Since LEAN_OPEN_PATCH the runbook's opening netboot was announced with the claim.
  if (!f.opening.take(action, announce, netboot))
    await regionLocal.recordEvents({
      systemId,
      events: powerAnnouncements(f.nextEvent, action, hostname, announce),
      ...(netboot && f.bootPurposeWithAnnouncements ? { netboot } : {}),
    });
  let result: PowerActionResult;
  try {
    const input = { systemId, retriedByTemporal: true };
    result = asPowerResult(
      await (action === 'on'
        ? rack.powerOn({ ...input, ...(netboot ? { prepareBoot: netboot.purpose } : {}) })
        : rack.powerOff(input)),
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    await f.reclaim();
    await regionLocal.recordPowerOutcome({
      systemId,
      state: 'error',
      events: [f.nextEvent(bmcReason(err), 'ERROR', POWER_FAILED[action])],
    });
    throw err;
  }
  await f.reclaim();
  const message = result.byHand ? byHandMessage(action, hostname, action === 'on') : undefined;
  const outcome = {
    state: result.state,
    events: [
      message === undefined
        ? f.nextEvent(`Power state: ${result.state}.`, 'INFO', POWER_DONE[action])
        : f.nextEvent(message, 'WARNING', POWER_STARTING[action]),
    ],
  };
  // The runbook's closing power-off (LEAN_CLOSE_PATCH): its outcome waits for the run's.
  if (closing) return { result, closing: outcome };
  await regionLocal.recordPowerOutcome({
    systemId,
    ...outcome,
    ...(message !== undefined && action === 'on' ? { statusMessage: { workflowId: f.workflowId, message } } : {}),
  });
  return { result };
}
