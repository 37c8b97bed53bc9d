import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SearchAttribute, type PowerParams, type PowerResult, type PowerState } from '../contracts/workflows';
import { rackOf, region } from './activities';

const VERB = { on: 'Powering on', off: 'Powering off', cycle: 'Power cycling', query: 'Querying power state' } as const;

/** A power action asked for through the API: the rack that reaches the BMC does it. */
export async function powerWorkflow(p: PowerParams): Promise<PowerResult> {
  upsertSearchAttributes({ [SearchAttribute.systemId]: [p.systemId], [SearchAttribute.hostname]: [p.hostname] });
  const rack = rackOf(p.rackQueue);
  const act: Record<PowerParams['action'], () => Promise<PowerState>> = {
    on: () => rack.powerOn({ systemId: p.systemId }),
    off: () => rack.powerOff({ systemId: p.systemId }),
    cycle: () => rack.powerCycle({ systemId: p.systemId }),
    query: () => rack.queryPower({ systemId: p.systemId }),
  };
  const state = await act[p.action]();
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
