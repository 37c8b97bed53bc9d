import { ApplicationFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PowerActionResult } from '../contracts/activities';
import { SearchAttribute, type PowerParams, type PowerResult } from '../contracts/workflows';
import { rackOf, region } from './activities';
import { asPowerResult, bmcReason, byHandMessage, POWER_FAILED, POWER_STARTING } from './power-events';

const UNABLE = {
  on: 'Failed to power on',
  off: 'Failed to power off',
  cycle: 'Failed to power cycle',
  query: 'Failed to query the BMC of',
} as const;
/** The API waits (MachineActions.power: 120 s) on this workflow: the rack must answer before. The
 * driver's own MAAS retries (4+8+16+32 s) fit. */
const ANSWER_WITHIN_MS = 100_000;

/** A power action asked for through the API: the rack that reaches the BMC does it. */
export async function powerWorkflow(p: PowerParams): Promise<PowerResult> {
  upsertSearchAttributes({ [SearchAttribute.systemId]: [p.systemId], [SearchAttribute.hostname]: [p.hostname] });
  const rack = rackOf(p.rackQueue, ANSWER_WITHIN_MS);
  const act: Record<PowerParams['action'], () => Promise<PowerActionResult>> = {
    on: async () => asPowerResult(await rack.powerOn({ systemId: p.systemId })),
    off: async () => asPowerResult(await rack.powerOff({ systemId: p.systemId })),
    cycle: async () => asPowerResult(await rack.powerCycle({ systemId: p.systemId })),
    query: async () => ({ state: await rack.queryPower({ systemId: p.systemId }) }),
  };
  let result: PowerActionResult;
  try {
    result = await act[p.action]();
  } catch (err) {
    // The BMC's own words (the activity failure's cause), for the event and the API's 503.
    const reason = bmcReason(err);
    await region.recordPowerState({ systemId: p.systemId, state: 'error' });
    await region.recordEvent({
      systemId: p.systemId,
      type: POWER_FAILED[p.action],
      description: reason,
      level: 'ERROR',
      dedupeKey: `power/${workflowInfo().runId}`,
    });
    throw ApplicationFailure.nonRetryable(`${UNABLE[p.action]} ${p.hostname}: ${reason}`, 'PowerActionFailed');
  }
  const { state } = result;
  await region.recordPowerState({ systemId: p.systemId, state });
  if (p.action !== 'query') {
    await region.recordEvent({
      systemId: p.systemId,
      type: POWER_STARTING[p.action],
      // A manual machine: the operator is the BMC.
      description: result.byHand
        ? byHandMessage(p.action, p.hostname, false)
        : `${POWER_STARTING[p.action]}: power is ${state}.`,
      level: 'INFO',
      dedupeKey: `power/${workflowInfo().runId}`,
    });
  }
  return { state };
}
