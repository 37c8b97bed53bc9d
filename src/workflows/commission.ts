import { LIFECYCLE, MachineStatus as S } from '../contracts/lifecycle';
import type { CommissionParams, LifecycleOutcome } from '../contracts/workflows';
import { OperationFrame } from './frame';
import { silenceOf, statusesOf } from './operation-plan';
import { MachineReports } from './signals';
import { netboot } from './steps';
import { awaitCommissioning } from './test';

/**
 * Commissioning: boot the ephemeral environment, let it report the hardware (and run the tests it
 * was given: workflows/test.ts), power off, READY.
 */
export async function commissionWorkflow(p: CommissionParams): Promise<LifecycleOutcome> {
  const reports = new MachineReports();
  const opening = { purpose: 'commissioning', announce: 'Powering on to commission.' } as const;
  const life = new OperationFrame({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    claimToken: p.claimToken,
    owner: p.owner,
    reports,
    powerWithinMs: silenceOf(LIFECYCLE.commission, p.deadlines),
    ...statusesOf(LIFECYCLE.commission),
    powerOffOnStop: true,
    opensWith: opening,
  });
  life.onRetry(() => reports.forget());
  return life.run(async () => {
    life.at('boot the ephemeral environment');
    await netboot(life, p, opening);

    life.at('wait for the commissioning results');
    // Then the tests, when the API gave it testing scripts (the environment signals TESTING).
    await awaitCommissioning(
      life,
      reports,
      silenceOf(LIFECYCLE.commission, p.deadlines),
      'Commissioning scripts failed.',
    );

    life.at('power off');
    await life.powerOffToClose();
    return { status: S.READY, message: '' };
  });
}
