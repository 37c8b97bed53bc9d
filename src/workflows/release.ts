import type { EraseMode } from '../contracts/boot';
import { LIFECYCLE } from '../contracts/lifecycle';
import type { LifecycleOutcome, ReleaseParams } from '../contracts/workflows';
import { OperationFrame } from './frame';
import { silenceOf, statusesOf } from './operation-plan';
import { MachineReports } from './signals';
import { awaitResult, netboot, powerOff } from './steps';

/** Release: power off, optionally erase the disks in the ephemeral environment, back to the pool. */
export async function releaseWorkflow(p: ReleaseParams): Promise<LifecycleOutcome> {
  const reports = new MachineReports();
  const life = new OperationFrame({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    claimToken: p.claimToken,
    owner: p.owner,
    reports,
    powerWithinMs: p.deadlines.nodeTimeoutMs,
    ...statusesOf(LIFECYCLE.release),
    powerOffOnStop: false,
  });
  life.onRetry(() => reports.forget());
  return life.run(async () => {
    life.at('power off');
    await life.event('Powering off to release.');
    await powerOff(life);

    if (p.erase) {
      // MAAS: secure erase falls back to quick when both were asked for, else to a full erase.
      const mode: EraseMode = p.secureErase
        ? p.quickErase
          ? 'secure,quick'
          : 'secure'
        : p.quickErase
          ? 'quick'
          : 'full';
      await life.advance(LIFECYCLE.diskErase);
      life.at(`erase disks (${mode})`);
      await netboot(life, p, {
        purpose: 'commissioning',
        announce: `Powering on to erase disks (${mode}).`,
        erase: mode,
      });
      await awaitResult(
        reports,
        LIFECYCLE.diskErase.event,
        silenceOf(LIFECYCLE.diskErase, p.deadlines),
        'Disk erasure failed.',
      );
      await powerOff(life);
    }

    life.at('return to the pool');
    await life.reclaimIfReset();
    await life.db.setBootPurpose({ systemId: p.systemId, purpose: 'poweroff' });
    await life.db.clearWorkloadAnnotations({ systemId: p.systemId });
    const destination = await life.db.releaseDestination({ systemId: p.systemId });
    return { status: destination, message: '' };
  });
}
