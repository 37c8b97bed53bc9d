import { abortStatusOf, MachineStatus as S } from '../contracts/lifecycle';
import type { AbortParams, LifecycleOutcome } from '../contracts/workflows';
import { OperationFrame } from './frame';

/**
 * Abort for a machine whose operation has no running workflow any more (it was terminated, or
 * the machine was stranded): power off and leave the abort status. A running operation is
 * aborted by cancelling its workflow instead, which cleans up the same way.
 */
export async function abortWorkflow(p: AbortParams): Promise<LifecycleOutcome> {
  // The lifecycle table's abort destination (contracts/lifecycle.ts LIFECYCLE).
  const to = abortStatusOf(p.from) ?? S.BROKEN;
  const life = new OperationFrame({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    owner: p.owner,
    operation: 'Aborting',
    inProgress: p.from,
    expectFrom: [p.from],
    abortTo: to,
    failTo: to,
    powerOffOnStop: true,
  });
  return life.runAbort(`Aborted ${p.from === S.DEPLOYING ? 'deployment' : 'operation'}.`, to);
}
