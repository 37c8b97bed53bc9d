import { upsertSearchAttributes } from '@temporalio/workflow';
import { labelOf, LIFECYCLE } from '../contracts/lifecycle';
import { SearchAttribute, type LifecycleOutcome, type RegisterDeployedParams } from '../contracts/workflows';
import { region } from './activities';

/**
 * Registration of a machine that already runs a workload (MAAS 3.1): the machine row was created
 * DEPLOYED by the API; this records it. No power action is ever taken.
 */
export async function registerDeployedWorkflow(p: RegisterDeployedParams): Promise<LifecycleOutcome> {
  const op = LIFECYCLE.registerDeployed;
  const [status] = op.succeedTo;
  upsertSearchAttributes({
    [SearchAttribute.systemId]: [p.systemId],
    [SearchAttribute.hostname]: [p.hostname],
    [SearchAttribute.machineStatus]: [labelOf(status)],
  });
  await region.recordEvent({
    systemId: p.systemId,
    type: op.event,
    description: 'Registered as an already deployed machine; no power action taken.',
    level: 'INFO',
    dedupeKey: `register-deployed/${p.systemId}`,
  });
  return { status, message: '' };
}
