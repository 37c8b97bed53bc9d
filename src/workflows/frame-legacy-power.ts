// How the frame's power steps ran in workflows started before FEWER_ROUND_TRIPS_PATCH
// (frame-patches.ts): such runs replay these commands as they were recorded, so they stay as they
// were. New runs power the machine through frame-power.ts powerInOneWrite.
import { isCancellation } from '@temporalio/workflow';
import type { PowerActionResult } from '../contracts/activities';
import { powerStepsOf, rackOf, region } from './activities';
import {
  asPowerResult,
  bmcReason,
  byHandMessage,
  POWER_DONE,
  POWER_FAILED,
  POWER_STARTING,
  startingWords,
} from './power-events';

/** What a legacy power step needs of its frame. */
export interface LegacyPowerFrame {
  systemId: string;
  hostname: string;
  rackQueue: string;
  powerWithinMs?: number;
  workflowId: string;
  /** The frame's event step (a task-queue activity in these runs). */
  event(description: string, level: 'INFO' | 'WARNING' | 'ERROR', type: string): Promise<void>;
}

/**
 * Between POWER_EVENTS_PATCH and FEWER_ROUND_TRIPS_PATCH: each event, the power state and a
 * manual machine's status message are activities of their own; Temporal retries the BMC.
 */
export async function powerWithEventSteps(f: LegacyPowerFrame, action: 'on' | 'off'): Promise<PowerActionResult> {
  const { systemId, hostname } = f;
  // Only the activity's options and input differ from before: Temporal retries the BMC.
  const rack = powerStepsOf(f.rackQueue, f.powerWithinMs);
  await f.event(startingWords(action, hostname), 'INFO', POWER_STARTING[action]);
  let result: PowerActionResult;
  try {
    const input = { systemId, retriedByTemporal: true };
    result = asPowerResult(await (action === 'on' ? rack.powerOn(input) : rack.powerOff(input)));
  } catch (err) {
    if (isCancellation(err)) throw err;
    await region.recordPowerState({ systemId, state: 'error' });
    await f.event(bmcReason(err), 'ERROR', POWER_FAILED[action]);
    throw err;
  }
  await region.recordPowerState({ systemId, state: result.state });
  if (result.byHand) {
    const message = byHandMessage(action, hostname, action === 'on');
    await f.event(message, 'WARNING', POWER_STARTING[action]);
    if (action === 'on') await region.setStatusMessage({ systemId, workflowId: f.workflowId, message });
  } else {
    await f.event(`Power state: ${result.state}.`, 'INFO', POWER_DONE[action]);
  }
  return result;
}

/** Before POWER_EVENTS_PATCH: the rack's power action and the state it reports, no events. */
export async function powerWithoutEvents(
  f: Pick<LegacyPowerFrame, 'systemId' | 'rackQueue'>,
  action: 'on' | 'off',
): Promise<PowerActionResult> {
  const { systemId } = f;
  const rack = rackOf(f.rackQueue);
  const result = asPowerResult(await (action === 'on' ? rack.powerOn({ systemId }) : rack.powerOff({ systemId })));
  await region.recordPowerState({ systemId, state: result.state });
  return result;
}
