import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { labelOf, LIFECYCLE } from '../contracts/lifecycle';
import { SearchAttribute, type LifecycleOutcome, type RegisterDeployedParams } from '../contracts/workflows';
import { region } from './activities';
import { ResetClaim } from './reset';

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
  // A reset run (a retry from Temporal) records it only while the machine is as registered.
  const reset = new ResetClaim(() => ({
    systemId: p.systemId,
    workflowId: workflowInfo().workflowId,
    operation: op.event,
    to: status,
    leftIn: [status],
    startFrom: [],
    registration: true,
  }));
  await reset.reclaim();
  await region.recordEvent({
    systemId: p.systemId,
    type: op.event,
    description: 'Registered as an already deployed machine; no power action taken.',
    level: 'INFO',
    dedupeKey: `register-deployed/${p.systemId}`,
  });
  // Reset to the workflow task after the event: the retry still checks the machine and says so.
  await reset.reclaim();
  return { status, message: '' };
}
