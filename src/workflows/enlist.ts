import { labelOf, LIFECYCLE } from '../contracts/lifecycle';
import type { EnlistParams, LifecycleOutcome } from '../contracts/workflows';
import { region } from './activities';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttribute } from '../contracts/workflows';

/**
 * Enlistment: an unknown machine netbooted into the ephemeral environment, which created it
 * anonymously (NEW) and then powers itself off, as MAAS's enlistment environment does. Nothing
 * is waited for here: the machine has no token to report with, and a power action now (its BMC
 * is not known yet) could only race a commissioning the operator starts next.
 */
export async function enlistWorkflow(p: EnlistParams): Promise<LifecycleOutcome> {
  const op = LIFECYCLE.enlist;
  const [status] = op.succeedTo;
  upsertSearchAttributes({
    [SearchAttribute.systemId]: [p.systemId],
    [SearchAttribute.hostname]: [p.hostname],
    [SearchAttribute.machineStatus]: [labelOf(status)],
  });
  const message = 'Enlisted by the machine itself; it powers itself off.';
  await region.recordEvent({
    systemId: p.systemId,
    type: op.event,
    description: message,
    level: 'INFO',
    dedupeKey: `enlist/${p.systemId}`,
  });
  return { status, message };
}
