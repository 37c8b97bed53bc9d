// Hardware testing (issue 20): op=test's runbook, and the testing phase commissioning goes on to
// when the API gave it testing scripts. The ephemeral environment runs the run's testing set
// (the maas-scripts tar), signals TESTING, each result, then OK or FAILED.
import { patched } from '@temporalio/workflow';
import { LIFECYCLE, MachineStatus as S, type LifecycleOperation } from '../contracts/lifecycle';
import type { LifecycleOutcome, MachineSignal, TestParams } from '../contracts/workflows';
import { OperationFrame } from './frame';
import { operationFailed, timedOut } from './failures';
import { silenceOf, statusesOf } from './operation-plan';
import { MachineReports } from './signals';
import { awaitResult, netboot } from './steps';

/**
 * Commissioning's TESTING report moves the machine on to TESTING (MAAS's _process_commissioning),
 * since this patch; a commissioning started before it never had tests to run, and replays without.
 */
export const TESTING_PATCH = 'testing';

/**
 * Since this patch, a final report that ends a commissioning run which reached its tests says so
 * (MachineSignal.machineStatus TESTING, from the run's script results): the workflow then moves on
 * to the test operation's statuses itself, so a failed test ends FAILED_TESTING even when the
 * TESTING report never reached this workflow. Earlier runs never see such a report.
 */
export const TESTING_STATE_PATCH = 'testing-state';

/** Testing entered from commissioning: the test operation's statuses, claimed from COMMISSIONING. */
const TESTING_AFTER_COMMISSIONING: LifecycleOperation = { ...LIFECYCLE.test, startFrom: [S.COMMISSIONING] };

const finished = (r: MachineSignal) => r.kind === 'signal' && (r.status === 'OK' || r.status === 'FAILED');

/**
 * Commissioning's end: OK or FAILED, or TESTING (its scripts passed and the environment goes on
 * to the tests), after which the machine is TESTING and the outcome is the tests'. A failed test
 * fails the operation, which the frame then leaves FAILED_TESTING.
 */
export async function awaitCommissioning(
  life: OperationFrame,
  reports: MachineReports,
  silenceMs: number,
  failedMessage: string,
): Promise<void> {
  for (;;) {
    const report = await reports.waitFor((r) => finished(r) || r.status === 'TESTING', silenceMs);
    if (!report) throw operationFailed(timedOut(LIFECYCLE.commission.event, silenceMs));
    if (finished(report) && report.machineStatus === S.TESTING && patched(TESTING_STATE_PATCH)) {
      life.at('move on to testing');
      await life.advance(TESTING_AFTER_COMMISSIONING);
      if (report.status === 'FAILED') throw operationFailed(report.message || 'Testing scripts failed.');
      return;
    }
    if (report.status === 'FAILED') throw operationFailed(report.message || failedMessage);
    if (report.status === 'OK') return;
    // TESTING: only a run whose workflow has this patch moves on (older ones never see it).
    if (!patched(TESTING_PATCH)) continue;
    life.at('move on to testing');
    await life.advance(TESTING_AFTER_COMMISSIONING);
    life.at('wait for the test results');
    await awaitResult(reports, LIFECYCLE.test.event, silenceMs, 'Testing scripts failed.');
    return;
  }
}

/** op=test: boot the ephemeral environment, let it run the tests, power off, back where it was. */
export async function testWorkflow(p: TestParams): Promise<LifecycleOutcome> {
  const reports = new MachineReports();
  const opening = { purpose: 'commissioning', announce: 'Powering on to test.' } as const;
  const silence = silenceOf(LIFECYCLE.test, p.deadlines);
  const life = new OperationFrame({
    systemId: p.systemId,
    hostname: p.hostname,
    rackQueue: p.rackQueue,
    claimToken: p.claimToken,
    owner: p.owner,
    reports,
    powerWithinMs: silence,
    ...statusesOf(LIFECYCLE.test),
    powerOffOnStop: true,
    opensWith: opening,
  });
  life.onRetry(() => reports.forget());
  return life.run(async () => {
    life.at('boot the ephemeral environment');
    await netboot(life, p, opening);

    life.at('wait for the test results');
    await awaitResult(reports, LIFECYCLE.test.event, silence, 'Testing scripts failed.');

    life.at('power off');
    await life.powerOffToClose();
    return { status: p.returnTo, message: '' };
  });
}
