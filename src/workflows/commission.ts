import { MachineStatus as S } from '../contracts/lifecycle';
import type { CommissionParams, LifecycleOutcome } from '../contracts/workflows';
import { rackOf, region } from './activities';
import { Lifecycle, operationFailed, timedOut } from './lifecycle';
import { MachineReports } from './signals';

/** Commissioning: boot the ephemeral environment, let it report the hardware, power off, READY. */
export async function commissionWorkflow(p: CommissionParams): Promise<LifecycleOutcome> {
  const reports = new MachineReports();
  const rack = rackOf(p.rackQueue);
  const life = new Lifecycle({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    operation: 'Commissioning',
    inProgress: S.COMMISSIONING,
    expectFrom: [S.NEW, S.READY, S.FAILED_COMMISSIONING, S.BROKEN, S.MISSING, S.FAILED_TESTING],
    abortTo: S.NEW,
    failTo: S.FAILED_COMMISSIONING,
    powerOffOnStop: true,
  });
  return life.run(async () => {
    life.at('boot the ephemeral environment');
    await region.setBootPurpose({ systemId: p.systemId, purpose: 'commissioning' });
    await rack.prepareBoot({ systemId: p.systemId, purpose: 'commissioning' });
    await life.event('Powering on to commission.');
    await region.recordPowerState({ systemId: p.systemId, state: await rack.powerOn({ systemId: p.systemId }) });

    life.at('wait for the commissioning results');
    const report = await reports.waitFor((r) => r.kind === 'signal' && (r.status === 'OK' || r.status === 'FAILED'), p.deadlines.nodeTimeoutMs);
    if (!report) throw operationFailed(timedOut('Commissioning', p.deadlines.nodeTimeoutMs));
    if (report.status === 'FAILED') throw operationFailed(report.message || 'Commissioning scripts failed.');

    life.at('power off');
    await region.recordPowerState({ systemId: p.systemId, state: await rack.powerOff({ systemId: p.systemId }) });
    return { status: S.READY, message: '' };
  });
}
