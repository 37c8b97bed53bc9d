import { MachineStatus as S } from '../contracts/lifecycle';
import type { EnlistParams, LifecycleOutcome } from '../contracts/workflows';
import { rackOf, region } from './activities';
import { failureMessage } from './lifecycle';
import { MachineReports } from './signals';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttribute } from '../contracts/workflows';

/**
 * Enlistment: an unknown machine netbooted, ran the enlistment scripts and created itself (NEW).
 * Wait for it to finish reporting, then power it off, as MAAS does. The machine stays NEW.
 */
export async function enlistWorkflow(p: EnlistParams): Promise<LifecycleOutcome> {
  const reports = new MachineReports();
  upsertSearchAttributes({
    [SearchAttribute.systemId]: [p.systemId],
    [SearchAttribute.hostname]: [p.hostname],
    [SearchAttribute.machineStatus]: ['New'],
  });
  const event = (description: string, level: 'INFO' | 'WARNING') =>
    region.recordEvent({ systemId: p.systemId, type: 'Enlisting', description, level, dedupeKey: `enlist/${p.systemId}/${description}` });
  await event('Enlisted by the machine itself.', 'INFO');
  const report = await reports.waitFor((r) => r.kind === 'signal' && (r.status === 'OK' || r.status === 'FAILED'), p.deadlines.nodeTimeoutMs);
  const message = !report ? 'Enlistment did not report back; powering off.' : report.status === 'FAILED' ? `Enlistment failed: ${report.message}` : 'Enlistment finished.';
  await event(message, report?.status === 'OK' ? 'INFO' : 'WARNING');
  try {
    await region.recordPowerState({ systemId: p.systemId, state: await rackOf(p.rackQueue).powerOff({ systemId: p.systemId }) });
  } catch (err) {
    await event(`Could not power off after enlistment: ${failureMessage(err)}`, 'WARNING');
  }
  return { status: S.NEW, message };
}
