import { ApplicationFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SearchAttribute, type PowerParams, type PowerResult, type PowerState } from '../contracts/workflows';
import { rackOf, region } from './activities';

const VERB = { on: 'Powering on', off: 'Powering off', cycle: 'Power cycling', query: 'Querying power state' } as const;
/** MAAS's event types for a failed power action. */
const FAILED = { on: 'Failed to power on node', off: 'Failed to power off node', cycle: 'Failed to power cycle node', query: 'Failed to query node\'s BMC' } as const;
const UNABLE = { on: 'Failed to power on', off: 'Failed to power off', cycle: 'Failed to power cycle', query: 'Failed to query the BMC of' } as const;
/** The API waits (MachineActions.power: 120 s) on this workflow: the rack must answer before. The
 * driver's own MAAS retries (4+8+16+32 s) fit. */
const ANSWER_WITHIN_MS = 100_000;

/** A power action asked for through the API: the rack that reaches the BMC does it. */
export async function powerWorkflow(p: PowerParams): Promise<PowerResult> {
  upsertSearchAttributes({ [SearchAttribute.systemId]: [p.systemId], [SearchAttribute.hostname]: [p.hostname] });
  const rack = rackOf(p.rackQueue, ANSWER_WITHIN_MS);
  const act: Record<PowerParams['action'], () => Promise<PowerState>> = {
    on: () => rack.powerOn({ systemId: p.systemId }),
    off: () => rack.powerOff({ systemId: p.systemId }),
    cycle: () => rack.powerCycle({ systemId: p.systemId }),
    query: () => rack.queryPower({ systemId: p.systemId }),
  };
  let state: PowerState;
  try {
    state = await act[p.action]();
  } catch (err) {
    // The BMC's own words (the activity failure's cause), for the event and the API's 503.
    const reason = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    await region.recordPowerState({ systemId: p.systemId, state: 'error' });
    await region.recordEvent({ systemId: p.systemId, type: FAILED[p.action], description: reason, level: 'ERROR', dedupeKey: `power/${workflowInfo().runId}` });
    throw ApplicationFailure.nonRetryable(`${UNABLE[p.action]} ${p.hostname}: ${reason}`, 'PowerActionFailed');
  }
  await region.recordPowerState({ systemId: p.systemId, state });
  if (p.action !== 'query') {
    await region.recordEvent({
      systemId: p.systemId,
      type: VERB[p.action],
      description: `${VERB[p.action]}: power is ${state}.`,
      level: 'INFO',
      dedupeKey: `power/${workflowInfo().runId}`,
    });
  }
  return { state };
}
