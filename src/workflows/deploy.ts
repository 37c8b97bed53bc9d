import { LIFECYCLE, MachineStatus as S } from '../contracts/lifecycle';
import type { DeployParams, LifecycleOutcome, MachineSignal } from '../contracts/workflows';
import { isCancellation, patched } from '@temporalio/workflow';
import { rackOf } from './activities';
import { OperationFrame } from './frame';
import { failureMessage, operationFailed, timedOut } from './failures';
import { silenceOf, statusesOf } from './operation-plan';
import { MachineReports } from './signals';
import { awaitResult, netboot } from './steps';

/**
 * Workflows started before the ephemeral branch existed took the disk path for every deploy; the
 * marker keeps their replay on it (test/fixtures/histories: deploy-ephemeral-* records the branch).
 */
const EPHEMERAL_DEPLOY_PATCH = 'ephemeral-deploy';
/** How often, and how many times, to look for the installer having powered the machine off. */
const OFF_POLL_MS = 3_000;
const OFF_POLLS = 20;
const checkedInOrFailed = (r: MachineSignal) =>
  r.kind === 'deployed-os' || (r.kind === 'signal' && r.status === 'FAILED');

/**
 * Deployment: netboot the installer, which writes the image and reports; then boot from disk and
 * mark DEPLOYED only when the installed OS checks in (fetches its user-data), as MAAS does. An
 * ephemeral deploy's environment unpacks the image into RAM instead, reports, and switches into it.
 */
export async function deployWorkflow(p: DeployParams): Promise<LifecycleOutcome> {
  const reports = new MachineReports();
  const rack = rackOf(p.rackQueue);
  const silence = silenceOf(LIFECYCLE.deploy, p.deadlines);
  const opening = { purpose: 'xinstall', announce: `Powering on to deploy ${p.distroSeries}.` } as const;
  const life = new OperationFrame({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    claimToken: p.claimToken,
    owner: p.owner,
    reports,
    powerWithinMs: silence,
    ...statusesOf(LIFECYCLE.deploy),
    powerOffOnStop: true,
    opensWith: opening,
  });
  life.onRetry(() => reports.forget());
  return life.run(async () => {
    life.at('boot the installer');
    await netboot(life, p, opening);

    life.at('wait for the installation');
    await awaitResult(reports, LIFECYCLE.deploy.event, silence, 'Installation failed.');

    if (p.ephemeral && patched(EPHEMERAL_DEPLOY_PATCH)) return runFromRam(life, p, reports, silence);

    life.at('boot from disk');
    await life.reclaimIfReset();
    await life.db.setBootPurpose({ systemId: p.systemId, purpose: 'local' });
    await rack.prepareBoot({ systemId: p.systemId, purpose: 'local' });
    await life.event('Installation finished; booting from disk.');
    // The installer powers the machine off once the image is written (MAAS's curtin reboots it
    // instead): once the BMC says it is off, power it on again. It netboots first, as MAAS
    // machines do, and the rack's `local` script hands over to the disk. A machine that reboots
    // by itself checks in meanwhile; one whose power cannot be queried is left to do so.
    let report: MachineSignal | undefined;
    for (let poll = 0; poll < OFF_POLLS && !report; poll++) {
      let state: string;
      try {
        state = await rack.queryPower({ systemId: p.systemId });
      } catch (err) {
        // The image is on disk: a BMC that stopped answering (or whose password changed) must not
        // fail the deployment; the installed OS may still check in by itself.
        if (isCancellation(err)) throw err;
        await life.event(
          `Could not query the power state after installation (${failureMessage(err)}); waiting for the machine to check in.`,
          'WARNING',
        );
        break;
      }
      if (state === 'off') {
        await life.power('on');
        break;
      }
      if (state !== 'on') break;
      report = await reports.waitFor(checkedInOrFailed, OFF_POLL_MS);
    }

    life.at('wait for the installed OS to check in');
    const checkedIn = report ?? (await reports.waitFor(checkedInOrFailed, silence));
    if (!checkedIn) throw operationFailed(timedOut(LIFECYCLE.deploy.event, silence));
    if (checkedIn.status === 'FAILED')
      throw operationFailed(checkedIn.message || 'The installed OS reported a failure.');
    return { status: S.DEPLOYED, message: `Deployed ${p.distroSeries}.` };
  });
}

/**
 * Ephemeral deploy: the environment reported the image unpacked in RAM and switches into it in the
 * same boot; that OS's cloud-init (the metadata server turns its final report into `deployed-os`)
 * makes the machine DEPLOYED. No disk to boot, so the machine keeps netbooting, as in MAAS.
 */
async function runFromRam(
  life: OperationFrame,
  p: DeployParams,
  reports: MachineReports,
  silence: number,
): Promise<LifecycleOutcome> {
  await life.event('Image unpacked in RAM; starting it (ephemeral deployment).');
  life.at('wait for the OS running from RAM to check in');
  const checkedIn = await reports.waitFor(checkedInOrFailed, silence);
  if (!checkedIn) throw operationFailed(timedOut(LIFECYCLE.deploy.event, silence));
  if (checkedIn.status === 'FAILED') throw operationFailed(checkedIn.message || 'The running OS reported a failure.');
  return { status: S.DEPLOYED, message: `Deployed ${p.distroSeries} (ephemeral).` };
}
