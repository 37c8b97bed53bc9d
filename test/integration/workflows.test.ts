// Lifecycle workflows on a real Temporal dev server and real PostgreSQL: the runbooks, their
// failures and deadlines. An operator's interventions while one runs are in
// workflow-interventions.test.ts, the reconciler's in reconciler.test.ts.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId, SearchAttribute } from '../../src/contracts/workflows';
import { BootConfigService } from '../../src/region/services/boot-config';
import { MachineEntity } from '../../src/region/db/entities';
import { workflowBundle } from '../helpers/infra';
import { deployOpts, useLifecycleRegion, type Admin } from '../helpers/lifecycle-region';
import { waitForStatus, type TestRegion } from '../helpers/region';

const NODE_TIMEOUT_MS = 3_000;

describe('lifecycle workflows (real Temporal, real PostgreSQL)', () => {
  const lr = useLifecycleRegion(NODE_TIMEOUT_MS);
  const { rack, newMachine, events, powerEvents, readyMachine } = lr;
  let region: TestRegion;
  let admin: Admin;
  before(() => {
    region = lr.region;
    admin = lr.admin;
  });

  it('commissions: power on, wait for the machine, power off, READY', async () => {
    const m = await newMachine('c-ok');
    await region.services.actions.commission(admin, m.systemId);
    const done = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(done.commissioningPassed, true);
    assert.equal(done.workflowId, null);
    assert.deepEqual(
      rack.calls.filter((c) => c.endsWith(m.systemId)),
      [`boot:commissioning:${m.systemId}`, `on:${m.systemId}`, `off:${m.systemId}`],
    );
    const handle = region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId));
    await handle.result();
    const described = await handle.describe();
    assert.deepEqual(described.searchAttributes[SearchAttribute.systemId], [m.systemId]);
    assert.deepEqual(described.searchAttributes[SearchAttribute.machineStatus], ['Ready']);
    assert.ok((await events(m.systemId)).some((e) => e.type === 'Commissioning'));
    // The runbook's announcement, recorded with the claim since lean-open: once, before the power-on's.
    const told = (await events(m.systemId)).map((e) => e.description);
    assert.equal(told.filter((d) => d === 'Powering on to commission.').length, 1, told.join(' | '));
    assert.ok(
      told.indexOf('Powering on to commission.') < told.indexOf('Powering on c-ok, next boot from the network.'),
      told.join(' | '),
    );
    // Every power action and its outcome is an event, exactly once.
    assert.deepEqual(await powerEvents(m.systemId), [
      'INFO Powering on: Powering on c-ok, next boot from the network.',
      'INFO Node powered on: Power state: on.',
      'INFO Powering off: Powering off c-ok.',
      'INFO Node powered off: Power state: off.',
    ]);
    // The power-off's outcome, recorded with the run's since lean-close, comes before the status change.
    assert.deepEqual(
      (await events(m.systemId)).slice(-2).map((e) => e.type),
      ['Node powered off', 'Ready'],
    );
    const history = await handle.fetchHistory();
    // Temporal's tasks: the rack's two power steps, each a task-queue activity; the claim and,
    // since lean-finish, the outcome are local activities (a marker each), a netboot's boot
    // purpose is written with the power-on's announcements, since lean-close the closing
    // power-off's outcome with the run's, and since lean-open the opening netboot's announcements
    // with the claim: 4 local activities, in 4 workflow tasks (start,
    // power-on's outcome, the machine's signal, power-off's outcome; 3 when the signal comes
    // before the power-on's outcome task starts).
    const kinds = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes
        ? [e.activityTaskScheduledEventAttributes.activityType?.name]
        : e.workflowTaskCompletedEventAttributes
          ? ['workflow task']
          : e.markerRecordedEventAttributes?.markerName === 'core_local_activity'
            ? ['local']
            : [],
    );
    assert.deepEqual(
      kinds.filter((k) => k !== 'workflow task' && k !== 'local'),
      ['powerOn', 'powerOff'],
    );
    assert.equal(kinds.filter((k) => k === 'local').length, 4, kinds.join(', '));
    const workflowTasks = kinds.filter((k) => k === 'workflow task').length;
    assert.ok(workflowTasks === 3 || workflowTasks === 4, kinds.join(', '));
    // The last workflow task records the outcome (the power-off's with it) and completes the run.
    assert.deepEqual(kinds.slice(kinds.lastIndexOf('workflow task')), ['workflow task', 'local']);
    // The history replays with the power steps as they are (deterministic; nothing scheduled twice).
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
  });

  it('a manual machine: the operator is told to power it on (event + status_message), nothing fails, and its boot is waited for', async () => {
    const m = await newMachine('c-manual');
    rack.behaviour.set(m.systemId, 'manual');
    await region.services.actions.commission(admin, m.systemId);
    const expected = 'Power on c-manual by hand (manual power type); waiting for it to boot from the network.';
    let waiting = await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    for (let i = 0; i < 100 && waiting.statusMessage !== expected; i++) {
      await new Promise((r) => setTimeout(r, 50));
      waiting = await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    }
    assert.equal(waiting.statusMessage, expected);
    assert.deepEqual(await powerEvents(m.systemId), [
      'INFO Powering on: Powering on c-manual, next boot from the network.',
      `WARNING Powering on: ${expected}`,
    ]);
    rack.pressPowerButton(m.systemId);
    const done = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(done.statusMessage, '', 'READY clears what the operator was asked');
    assert.equal(
      (await powerEvents(m.systemId)).at(-1),
      'WARNING Powering off: Power off c-manual by hand (manual power type).',
    );
  });

  it('fails commissioning with a reason when the machine reports FAILED', async () => {
    const m = await newMachine('c-fail');
    rack.behaviour.set(m.systemId, 'fails');
    await region.services.actions.commission(admin, m.systemId);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    assert.match(failed.statusMessage, /00-maas-01-cpuinfo failed/);
    assert.ok(rack.calls.includes(`off:${m.systemId}`), 'powered off after the failure');
  });

  it('times out a silent machine into FAILED_COMMISSIONING', async () => {
    const m = await newMachine('c-silent');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING, 20_000);
    assert.equal(failed.statusMessage, "Node operation 'Commissioning' timed out after 3 seconds.");
  });

  // The deadline counts from the machine's last report (MAAS: not heard from within node_timeout).
  // Since leaner-history a progress report moves it without restarting the wait's timer.
  const machineRow = (systemId: string) => region.services.db.getRepository(MachineEntity).findOneBy({ systemId });
  let reports = 0;
  // Each report different (its runtime), as an environment's are: an identical one is taken for
  // a retry of the last and dropped (report-repeats).
  const report = async (systemId: string, status: 'WORKING' | 'OK') =>
    region.services.metadata.signal((await machineRow(systemId))!, {
      status,
      error: '',
      files: new Map(),
      runtime: ++reports,
    });
  const timersStarted = async (systemId: string) =>
    ((await region.client.workflow.getHandle(lifecycleWorkflowId(systemId)).fetchHistory()).events ?? []).filter(
      (e) => e.timerStartedEventAttributes,
    ).length;
  const poweredOn = async (systemId: string) => {
    for (let i = 0; i < 200 && !rack.calls.includes(`on:${systemId}`); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(rack.calls.includes(`on:${systemId}`), 'powered on');
  };

  it('progress reports keep a machine that reports for longer than node_timeout alive, with few timers', async () => {
    const m = await newMachine('c-progress');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await poweredOn(m.systemId);
    // Six reports a second apart: twice the 3 s timeout in all, never 3 s of silence.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      await report(m.systemId, 'WORKING');
    }
    assert.equal((await machineRow(m.systemId))!.status, S.COMMISSIONING, 'still commissioning');
    await report(m.systemId, 'OK');
    await waitForStatus(region.services, m.systemId, S.READY);
    const timers = await timersStarted(m.systemId);
    assert.ok(timers < 6, `a timer per report would be 7 or more; started ${timers}`);
  });

  it('times out node_timeout after the last progress report, not after the wait began', async () => {
    const m = await newMachine('c-progress-stops');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await poweredOn(m.systemId);
    const began = Date.now();
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      await report(m.systemId, 'WORKING');
    }
    const lastReport = Date.now();
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING, 20_000);
    assert.equal(failed.statusMessage, "Node operation 'Commissioning' timed out after 3 seconds.");
    // Its failure event, by the database's clock (the test runs on the same machine).
    const [failedAt] = (await region.services.db.query(
      `SELECT extract(epoch FROM e.created) * 1000 AS at FROM events e JOIN machines m ON m.id = e.machine_id
        WHERE m.system_id = $1 AND e.description LIKE '%timed out%' ORDER BY e.id LIMIT 1`,
      [m.systemId],
    )) as Array<{ at: number }>;
    assert.ok(failedAt, 'the timeout is an event');
    // 3 s after the wait began would be before the last report; it must be 3 s after that report.
    assert.ok(
      Number(failedAt.at) >= lastReport + 2_900,
      `failed ${Math.round(Number(failedAt.at) - began)} ms after the wait began, ${Math.round(Number(failedAt.at) - lastReport)} ms after the last report`,
    );
  });

  it('a fatal BMC error fails at once with the BMC reason', async () => {
    const m = await newMachine('c-bmc');
    rack.behaviour.set(m.systemId, 'bmc-rejects');
    await region.services.actions.commission(admin, m.systemId);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING, 10_000);
    assert.match(failed.statusMessage, /wrong password/);
    // The power action's failure is one ERROR event with the BMC's words; the failed power-off of
    // the cleanup too; the status change (Failed commissioning) is its own event, not an ERROR copy.
    assert.deepEqual(await powerEvents(m.systemId), [
      'INFO Powering on: Powering on c-bmc, next boot from the network.',
      'ERROR Failed to power on node: BMC refused the credentials: wrong password.',
      'INFO Powering off: Powering off c-bmc.',
      'ERROR Failed to power off node: BMC refused the credentials: wrong password.',
    ]);
    const all = await events(m.systemId);
    assert.equal(all.filter((e) => e.level === 'ERROR').length, 2);
    assert.ok(all.some((e) => e.type === 'Failed commissioning' && /wrong password/.test(e.description)));
    assert.equal(
      (await region.services.db.query(`SELECT power_state FROM machines WHERE system_id = $1`, [m.systemId]))[0]
        .power_state,
      'error',
    );
  });

  it('`temporal workflow cancel` leaves the abort status (NEW) and powers off', async () => {
    const m = await newMachine('c-cancel');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    await new Promise((r) => setTimeout(r, 500));
    await region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId)).cancel();
    const aborted = await waitForStatus(region.services, m.systemId, S.NEW);
    assert.match(aborted.statusMessage, /Aborted commissioning/);
    assert.ok(rack.calls.includes(`off:${m.systemId}`));
  });

  it('deploys, aborts a deployment back to ALLOCATED, releases to READY', async () => {
    const m = await readyMachine('d-ok');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    const deployed = await waitForStatus(region.services, m.systemId, S.DEPLOYED);
    assert.equal(deployed.ownerId, admin.user.id);
    assert.equal(deployed.bootPurpose, 'local');

    await region.services.actions.release(admin, m.systemId, {
      erase: false,
      secureErase: false,
      quickErase: false,
      comment: '',
    });
    const released = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(released.ownerId, null);

    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    await waitForStatus(region.services, m.systemId, S.DEPLOYING);
    await region.services.actions.abort(admin, m.systemId);
    const aborted = await waitForStatus(region.services, m.systemId, S.ALLOCATED);
    assert.match(aborted.statusMessage, /Aborted deploying/);
  });

  it('release with erase: the boot config carries the mode while DISK_ERASING; silence fails it FAILED_DISK_ERASING; an erase that reports OK ends READY', async () => {
    const m = await readyMachine('r-erase');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    await waitForStatus(region.services, m.systemId, S.DEPLOYED);

    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.release(admin, m.systemId, {
      erase: true,
      secureErase: true,
      quickErase: false,
      comment: '',
    });
    await waitForStatus(region.services, m.systemId, S.DISK_ERASING);
    // DISK_ERASING comes first, then the boot purpose for the erase.
    const configs = new BootConfigService(
      region.services.db,
      region.services.machines,
      'http://region/MAAS/metadata',
      region.services.bootResources,
    );
    let boot = await configs.forSystemId(m.systemId);
    for (let i = 0; i < 40 && boot.purpose !== 'commissioning'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      boot = await configs.forSystemId(m.systemId);
    }
    assert.equal(boot.purpose, 'commissioning');
    assert.equal(boot.erase, 'secure', 'secure without quick: the environment falls back to full');
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_DISK_ERASING, 20_000);
    assert.equal(failed.statusMessage, "Node operation 'Disk erasing' timed out after 3 seconds.");

    rack.behaviour.set(m.systemId, 'answers');
    await region.services.actions.release(admin, m.systemId, {
      erase: true,
      secureErase: false,
      quickErase: true,
      comment: '',
    });
    const released = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(released.bootErase, '', 'the erase mode does not outlive the release');
    // Issue 15: the phase is over, and so are the credentials on the boot network.
    const afterwards = await configs.forSystemId(m.systemId);
    assert.equal(afterwards.purpose, 'poweroff');
    assert.equal(afterwards.credentials, undefined);
    assert.equal(released.ownerId, null);
    assert.ok((await events(m.systemId)).some((e) => e.description === 'Powering on to erase disks (quick).'));
    // The same words twice in one run (off before and after the erase) are two events, not deduped away.
    const eraseRun = await powerEvents(m.systemId);
    assert.deepEqual(eraseRun.slice(-6), [
      'INFO Powering off: Powering off r-erase.',
      'INFO Node powered off: Power state: off.',
      'INFO Powering on: Powering on r-erase, next boot from the network.',
      'INFO Node powered on: Power state: on.',
      'INFO Powering off: Powering off r-erase.',
      'INFO Node powered off: Power state: off.',
    ]);
  });

  it('a failed installation ends FAILED_DEPLOYMENT with the reason, powered off', async () => {
    const m = await readyMachine('d-fail');
    rack.behaviour.set(m.systemId, 'fails');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_DEPLOYMENT);
    assert.match(failed.statusMessage, /00-maas-01-cpuinfo failed/);
    assert.equal(rack.calls.filter((c) => c.endsWith(m.systemId)).at(-1), `off:${m.systemId}`);
  });

  it('deadlines: a silent installation, and an installed OS that never checks in, end FAILED_DEPLOYMENT (2× node_timeout), powered off', async () => {
    const silent = await readyMachine('d-silent');
    rack.behaviour.set(silent.systemId, 'silent');
    const quiet = await readyMachine('d-no-check-in');
    rack.behaviour.set(quiet.systemId, 'never-checks-in');
    await region.services.actions.deploy(admin, silent.systemId, deployOpts);
    await region.services.actions.deploy(admin, quiet.systemId, deployOpts);
    for (const m of [silent, quiet]) {
      const failed = await waitForStatus(region.services, m.systemId, S.FAILED_DEPLOYMENT, 30_000);
      assert.equal(failed.statusMessage, "Node operation 'Deploying' timed out after 6 seconds.", m.hostname);
      assert.equal(
        rack.calls.filter((c) => c.endsWith(m.systemId)).at(-1),
        `off:${m.systemId}`,
        `${m.hostname} powered off`,
      );
    }
    const quietCalls = rack.calls.filter((c) => c.endsWith(quiet.systemId));
    assert.deepEqual(
      quietCalls.slice(quietCalls.indexOf(`boot:local:${quiet.systemId}`)),
      [`boot:local:${quiet.systemId}`, `on:${quiet.systemId}`, `off:${quiet.systemId}`],
      'installed, booted from disk, then silence',
    );
  });

  it('a BMC that refuses the power-off fails the release FAILED_RELEASING with its reason; a later release succeeds', async () => {
    const m = await readyMachine('r-bmc');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    await waitForStatus(region.services, m.systemId, S.DEPLOYED);
    rack.behaviour.set(m.systemId, 'bmc-rejects');
    await region.services.actions.release(admin, m.systemId, {
      erase: false,
      secureErase: false,
      quickErase: false,
      comment: '',
    });
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_RELEASING);
    assert.match(failed.statusMessage, /wrong password/);
    assert.ok(
      (await events(m.systemId)).some(
        (e) => e.type === 'Failed to power off node' && /wrong password/.test(e.description),
      ),
    );
    rack.behaviour.set(m.systemId, 'answers');
    await region.services.actions.release(admin, m.systemId, {
      erase: false,
      secureErase: false,
      quickErase: false,
      comment: '',
    });
    assert.equal((await waitForStatus(region.services, m.systemId, S.READY)).ownerId, null);
  });

  it('releases a machine that never passed commissioning to NEW', async () => {
    const m = await region.services.machines.create({
      hostname: 'reg-dep',
      macAddresses: [],
      powerParameters: {},
      deployed: true,
      ownerId: admin.user.id,
    });
    assert.equal(m.status, S.DEPLOYED);
    await region.services.actions.release(admin, m.systemId, {
      erase: false,
      secureErase: false,
      quickErase: false,
      comment: '',
    });
    await waitForStatus(region.services, m.systemId, S.NEW);
  });
});
