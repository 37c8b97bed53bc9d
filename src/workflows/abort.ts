import { MachineStatus as S, type MachineStatus } from '../contracts/lifecycle';
import type { AbortParams, LifecycleOutcome } from '../contracts/workflows';
import { OperationFrame } from './frame';

/** MAAS's abort destinations: what an aborted operation leaves behind. */
export const ABORT_STATUS: Partial<Record<MachineStatus, MachineStatus>> = {
  [S.COMMISSIONING]: S.NEW,
  [S.DEPLOYING]: S.ALLOCATED,
  [S.DISK_ERASING]: S.FAILED_DISK_ERASING,
  [S.RELEASING]: S.FAILED_RELEASING,
  [S.TESTING]: S.FAILED_TESTING,
};

/**
 * Abort for a machine whose operation has no running workflow any more (it was terminated, or
 * the machine was stranded): power off and leave the abort status. A running operation is
 * aborted by cancelling its workflow instead, which cleans up the same way.
 */
export async function abortWorkflow(p: AbortParams): Promise<LifecycleOutcome> {
  const to = ABORT_STATUS[p.from] ?? S.BROKEN;
  const life = new OperationFrame({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    operation: 'Aborting',
    inProgress: p.from,
    expectFrom: [p.from],
    abortTo: to,
    failTo: to,
    powerOffOnStop: true,
  });
  return life.runAbort(`Aborted ${p.from === S.DEPLOYING ? 'deployment' : 'operation'}.`, to);
}
