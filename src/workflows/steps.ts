// Runbook steps several workflows share.
import type { MachineSignal } from '../contracts/workflows';
import { rackOf } from './activities';
import type { OperationFrame } from './frame';
import type { AnnouncedNetboot } from './frame-plan';
import { operationFailed, timedOut } from './failures';
import type { MachineReports } from './signals';

/**
 * Point the machine's next netboot at `step.purpose` (with `erase`, commissioning erases the
 * disks), then power it on with next boot PXE (a machine that is on is power-cycled), announced
 * with `step.announce`. A runbook that opens with it names it in its plan too (FramePlan.opensWith).
 */
export async function netboot(
  life: OperationFrame,
  m: { systemId: string; rackQueue: string },
  step: AnnouncedNetboot,
): Promise<void> {
  const rack = rackOf(m.rackQueue);
  const { purpose, erase, announce: announcement } = step;
  const next = { purpose, ...(erase ? { erase } : {}) };
  await life.reclaimIfReset();
  // Since LEAN_FINISH_PATCH the boot purpose is written with the power-on's announcements (one
  // local activity, frame.ts power).
  if (!life.has.leanFinish) await life.db.setBootPurpose({ systemId: m.systemId, ...next });
  // Since LEANER_HISTORY_PATCH the rack prepares the boot in the power-on's activity.
  if (life.has.leaner) {
    await life.power('on', announcement, next);
    return;
  }
  await rack.prepareBoot({ systemId: m.systemId, purpose });
  await life.power('on', announcement);
}

/** Power the machine off (events for the action and its outcome: OperationFrame.power). */
export async function powerOff(life: OperationFrame): Promise<void> {
  await life.power('off');
}

const finished = (r: MachineSignal) => r.kind === 'signal' && (r.status === 'OK' || r.status === 'FAILED');

/** Wait for the machine's OK; FAILED or silence for `silenceMs` fail the operation with the reason. */
export async function awaitResult(
  reports: MachineReports,
  operation: string,
  silenceMs: number,
  failedMessage: string,
): Promise<void> {
  const report = await reports.waitFor(finished, silenceMs);
  if (!report) throw operationFailed(timedOut(operation, silenceMs));
  if (report.status === 'FAILED') throw operationFailed(report.message || failedMessage);
}
