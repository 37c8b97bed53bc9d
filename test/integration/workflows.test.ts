// Lifecycle workflows on a real Temporal dev server and real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { RegionActivities, TransitionResult } from '../../src/contracts/activities';
import { labelOf, MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId, SearchAttribute, WorkflowType } from '../../src/contracts/workflows';
import { mapDomainError } from '../../src/api/domain-errors';
import { Reconciler } from '../../src/region/reconciler';
import { MachineActions } from '../../src/region/services/machine-actions';
import type { WorkflowGateway } from '../../src/region/services/workflow-gateway';
import { BootConfigService } from '../../src/region/services/boot-config';
import { MachineEntity } from '../../src/region/db/entities';
import { createAdmin, machineInput } from '../helpers/factories';
import { workflowBundle } from '../helpers/infra';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

const NODE_TIMEOUT_MS = 3_000;

/**
 * Holds the first beginTransition of an armed machine once it has started (as if it waited for
 * the machine's row lock), until the test lets it go.
 */
class FirstStepHold {
  private readonly armed = new Map<
    string,
    { reached: () => void; go: Promise<void>; done: (r: Promise<TransitionResult>) => void }
  >();

  arm(systemId: string): { reached: Promise<void>; go: () => void; done: Promise<TransitionResult> } {
    let reached!: () => void;
    let go!: () => void;
    let done!: (r: Promise<TransitionResult>) => void;
    const hold = {
      reached: new Promise<void>((r) => (reached = r)),
      go: new Promise<void>((r) => (go = r)),
      done: new Promise<TransitionResult>((r) => (done = r)),
    };
    this.armed.set(systemId, { reached, go: hold.go, done });
    return { reached: hold.reached, go, done: hold.done };
  }

  wrap(a: RegionActivities): RegionActivities {
    return {
      ...a,
      beginTransition: async (i) => {
        const hold = this.armed.get(i.systemId);
        if (!hold) return a.beginTransition(i);
        this.armed.delete(i.systemId);
        hold.reached();
        await hold.go;
        const result = a.beginTransition(i);
        hold.done(result);
        return result;
      },
    };
  }
}

describe('lifecycle workflows (real Temporal, real PostgreSQL)', () => {
  let region: TestRegion;
  const rack = new ScriptedRack();
  let admin: Awaited<ReturnType<typeof createAdmin>>;

  const held = new FirstStepHold();

  before(async () => {
    region = await startTestRegion({
      nodeTimeoutMs: NODE_TIMEOUT_MS,
      rack: rack.activities(),
      wrapRegionActivities: (a) => held.wrap(a),
    });
    rack.services = region.services;
    admin = await createAdmin(region.services);
  });
  after(async () => region?.stop());

  const newMachine = async (hostname: string) => region.services.machines.create(machineInput({ hostname }));
  const events = async (systemId: string) =>
    (await region.services.db.query(
      `SELECT e.type, e.description, e.level FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
      [systemId],
    )) as Array<{ type: string; description: string; level: string }>;
  /** The power events (MAAS's types: Powering on/off, Node powered on/off, Failed to …), in order. */
  const powerEvents = async (systemId: string) =>
    (await events(systemId))
      .filter((e) => /^(Powering|Node powered|Failed to power)/.test(e.type))
      .map((e) => `${e.level} ${e.type}: ${e.description}`);
  const deployOpts = {
    distroSeries: 'jammy',
    userData: '',
    agentName: '',
    comment: '',
  };
  /** A new machine, commissioned READY. */
  const readyMachine = async (hostname: string) => {
    const m = await newMachine(hostname);
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
    return m;
  };

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
  /** Until the machine's workflow has completed its first workflow task (the claim's, since lean-start). */
  const firstTaskDone = async (systemId: string) => {
    const done = async () =>
      ((await region.client.workflow.getHandle(lifecycleWorkflowId(systemId)).fetchHistory()).events ?? []).some(
        (e) => e.workflowTaskCompletedEventAttributes,
      );
    for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await done(), 'the first workflow task completed');
  };
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

  it('a cancel that reaches the workflow while its claim still runs: the cleanup powers off and announces no power-on', async () => {
    const m = await newMachine('c-cancel-claiming');
    rack.behaviour.set(m.systemId, 'silent');
    const hold = held.arm(m.systemId);
    await region.services.actions.commission(admin, m.systemId);
    await hold.reached;
    const handle = region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId));
    try {
      await handle.cancel();
      // The claim is a local activity: the cancel reaches the workflow at its task's heartbeat
      // (about 8 s) while the claim is still held, and the cleanup runs without it.
      for (let i = 0; i < 400 && !rack.calls.includes(`off:${m.systemId}`); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        rack.calls.includes(`off:${m.systemId}`),
        `powered off while the claim was held: ${rack.calls.join(', ')}`,
      );
    } finally {
      // The claim, let go now (also when the test failed: a held activity would hold up the
      // worker's shutdown), was given up on: it writes nothing and ends as cancelled.
      hold.go();
    }
    await assert.rejects(hold.done, (err: Error) => err.name === 'CancelledFailure');
    await handle.result().catch(() => undefined);
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    const aborted = await waitForStatus(region.services, m.systemId, S.NEW);
    assert.match(aborted.statusMessage, /Aborted commissioning/);
    const said = (await events(m.systemId)).map((e) => `${e.type}: ${e.description}`);
    assert.ok(said.includes(`Powering off: Powering off c-cancel-claiming.`), said.join(' | '));
    assert.deepEqual(
      said.filter((d) => d.includes('Powering on')),
      [],
      said.join(' | '),
    );
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

  it('a terminated workflow does not strand the machine: the reconciler fails it', async () => {
    const m = await newMachine('c-term');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    // Terminated while it waits for the machine: a local activity the terminate interrupts would
    // still write the machine, and the reconciler leaves a machine that changed for its next pass.
    while ((await waitForStatus(region.services, m.systemId, S.COMMISSIONING)).powerState !== 'on')
      await new Promise((r) => setTimeout(r, 50));
    await region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId)).terminate('operator');
    const reconciler = new Reconciler(region.services.db, region.services.workflows, {
      graceMs: 0,
      log: () => undefined,
    });
    assert.deepEqual(await reconciler.reconcile(), [m.systemId]);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    assert.match(failed.statusMessage, /was terminated/);
    assert.deepEqual(await reconciler.reconcile(), [], 'a second pass finds nothing');
  });

  // Temporal unreachable when an operator stops a running operation: the 503 says nothing was
  // changed, and that must be so (issue 18 review): not BROKEN with its workflow running on, not
  // abort's AUDIT event recorded. The same calls with Temporal back do what they say.
  it('mark_broken and abort with Temporal unreachable change nothing; the machine keeps its workflow', async () => {
    const m = await newMachine('c-outage');
    rack.behaviour.set(m.systemId, 'silent');
    // A deadline far beyond this test: the silent machine's workflow must still be running at its
    // end, however slow the machine running the test is (the file's 3 s would time it out).
    const patient = new MachineActions(
      region.services.db,
      region.services.workflows,
      region.services.racks,
      async () => ({ nodeTimeoutMs: 120_000 }),
      region.services.bootResources,
      region.services.config,
    );
    await patient.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    // Claimed by its workflow (it powered the machine on): a mark_broken before the claim would
    // fail the workflow's first step instead (the test after the next one), not cancel it.
    for (let i = 0; i < 200 && !rack.calls.includes(`on:${m.systemId}`); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(rack.calls.includes(`on:${m.systemId}`), 'the workflow powered the machine on');
    // What @temporalio/client's calls fail with while the server is down (gRPC 14 UNAVAILABLE).
    const unreachable = async (): Promise<never> => {
      throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
        code: 14,
        details: 'No connection established',
        metadata: {},
      });
    };
    const down: WorkflowGateway = Object.assign(Object.create(region.services.workflows) as WorkflowGateway, {
      cancel: unreachable,
      start: unreachable,
    });
    const actions = new MachineActions(
      region.services.db,
      down,
      region.services.racks,
      async () => ({ nodeTimeoutMs: NODE_TIMEOUT_MS }),
      region.services.bootResources,
      region.services.config,
    );
    for (const attempt of [
      () => actions.markBroken(admin, m.systemId, 'bad disk'),
      () => actions.abort(admin, m.systemId, 'operator gave up'),
    ]) {
      const err = await attempt().then(
        () => assert.fail('accepted with Temporal unreachable'),
        (e: unknown) => e,
      );
      assert.equal(mapDomainError(err)?.status, 503);
      assert.match(String(mapDomainError(err)?.body), /nothing was changed/);
      const now = await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
      assert.equal(now.workflowId, lifecycleWorkflowId(m.systemId), 'the claim stands');
      // (The workflow records its own events meanwhile: only the operator's are looked for.)
      assert.deepEqual(
        (await events(m.systemId)).filter(
          (e) => /bad disk|operator gave up/.test(e.description) || e.type === 'Broken',
        ),
        [],
        'no event of the refused request recorded',
      );
      assert.equal(await region.services.workflows.state(lifecycleWorkflowId(m.systemId)), 'running');
    }
    await region.services.actions.markBroken(admin, m.systemId, 'bad disk');
    assert.equal(
      await region.services.workflows.waitForClose(lifecycleWorkflowId(m.systemId), 10_000),
      'cancelled',
      'with Temporal there, mark_broken cancels the workflow',
    );
    assert.equal((await waitForStatus(region.services, m.systemId, S.BROKEN)).statusMessage, 'bad disk');
  });

  it('the reconciler asks Temporal before it locks the machine, and leaves a machine that changed meanwhile for the next pass', async () => {
    const m = await newMachine('c-term-unlocked');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    // Terminated once its first workflow task (the claim) has ended: a claim still running when the
    // workflow is terminated lands after it, and the reconciler's pass after that fails the machine.
    await firstTaskDone(m.systemId);
    await region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId)).terminate('operator');

    /** Whether another transaction holds the machine's row lock now. */
    const rowLocked = async () => {
      try {
        await region.services.db.transaction((tx) =>
          tx.query(`SELECT 1 FROM machines WHERE system_id = $1 FOR NO KEY UPDATE NOWAIT`, [m.systemId]),
        );
        return false;
      } catch (err) {
        const e = err as { code?: string; driverError?: { code?: string } };
        if ((e.driverError?.code ?? e.code) === '55P03') return true;
        throw err;
      }
    };
    const lockedWhileAsked: boolean[] = [];
    let touch = true;
    const workflows = new Proxy(region.services.workflows, {
      get: (target, key, receiver) =>
        key === 'state'
          ? async (workflowId: string) => {
              if (workflowId !== lifecycleWorkflowId(m.systemId)) return target.state(workflowId);
              lockedWhileAsked.push(await rowLocked());
              const state = await target.state(workflowId);
              // A write on the machine while Temporal was asked (as a reset run's resume makes).
              if (touch)
                await region.services.db.query(`UPDATE machines SET updated = now() WHERE system_id = $1`, [
                  m.systemId,
                ]);
              touch = false;
              return state;
            }
          : Reflect.get(target, key, receiver),
    });
    const reconciler = new Reconciler(region.services.db, workflows, { graceMs: 0, log: () => undefined });
    assert.ok(
      !(await reconciler.reconcile()).includes(m.systemId),
      'changed after Temporal was asked: not failed on that answer',
    );
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    assert.ok((await reconciler.reconcile()).includes(m.systemId), 'unchanged since: failed');
    await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    assert.ok(lockedWhileAsked.length >= 2, `asked ${lockedWhileAsked.length} times`);
    assert.deepEqual(
      lockedWhileAsked,
      lockedWhileAsked.map(() => false),
      'never asked while holding the row lock',
    );
  });

  // The window between the API's commit and the workflow's first step (beginTransition): an
  // operator who moves the machine on in it (mark_broken, abort) has the last word, even though
  // the workflow's first step could otherwise claim the machine from where the operator left it.
  const release = { erase: false, secureErase: false, quickErase: false, comment: '' };
  const windowCases = [
    {
      name: 'mark_broken while commissioning starts: BROKEN stands',
      setup: (hostname: string) => newMachine(hostname),
      start: (systemId: string) => region.services.actions.commission(admin, systemId),
      inProgress: S.COMMISSIONING,
      operator: (systemId: string) => region.services.actions.markBroken(admin, systemId, 'bad disk'),
      ends: S.BROKEN,
    },
    {
      name: 'abort while deployment starts: ALLOCATED stands',
      setup: (hostname: string) => readyMachine(hostname),
      start: (systemId: string) => region.services.actions.deploy(admin, systemId, deployOpts),
      inProgress: S.DEPLOYING,
      operator: (systemId: string) => region.services.actions.abort(admin, systemId),
      ends: S.ALLOCATED,
    },
    {
      name: 'mark_broken while release starts: BROKEN stands',
      setup: async (hostname: string) => {
        const m = await readyMachine(hostname);
        await region.services.actions.deploy(admin, m.systemId, deployOpts);
        await waitForStatus(region.services, m.systemId, S.DEPLOYED);
        return m;
      },
      start: (systemId: string) => region.services.actions.release(admin, systemId, release),
      inProgress: S.RELEASING,
      operator: (systemId: string) => region.services.actions.markBroken(admin, systemId, 'bad disk'),
      ends: S.BROKEN,
    },
  ];
  windowCases.forEach((c, n) => {
    it(`${c.name}: the workflow's first step, run after it, does not claim the machine back`, async () => {
      const m = await c.setup(`window-${n}`);
      rack.behaviour.set(m.systemId, 'silent');
      const hold = held.arm(m.systemId);
      await c.start(m.systemId);
      // The API committed the in-progress status; the workflow's first step has started and is held.
      await hold.reached;
      assert.equal(
        (await waitForStatus(region.services, m.systemId, c.inProgress)).workflowId,
        lifecycleWorkflowId(m.systemId),
      );
      await c.operator(m.systemId);
      hold.go();
      // The claim applied, was refused, or (when the operator's cancel reached the workflow at
      // its task's heartbeat while the claim was still held) was given up on and wrote nothing.
      const first = await hold.done.then(
        (r) => (r.applied ? 'applied' : 'refused'),
        (err: Error) => {
          if (err.name !== 'CancelledFailure') throw err;
          return 'given up';
        },
      );
      const handle = region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId));
      await handle.result().catch(() => undefined);
      const ended = (await handle.describe()).status.name ?? '';
      if (first !== 'refused') {
        // The claim is a local activity (lean-start): the operator's cancel reaches the workflow
        // once its workflow task, the claim's, ends (or at that task's heartbeat). The machine was
        // still in progress (abort only asks the workflow), and the cancel's cleanup stopped it.
        assert.equal(ended, 'CANCELLED', `a claim that ${first} is undone by the cancel`);
        // Its cleanup powers the machine off, whether or not the opening netboot (whose
        // announcements the claim carried since lean-open) got to power it on.
        assert.ok(rack.calls.includes(`off:${m.systemId}`), rack.calls.join(', '));
      } else {
        // The operator's cancel and the first step's answer (not applied) race to the workflow:
        // it ends cancelled, or failed ("Machine left …"); either way it changed nothing.
        assert.ok(['CANCELLED', 'FAILED'].includes(ended), ended);
      }
      const settled = await waitForStatus(region.services, m.systemId, c.ends, 1_000);
      assert.equal(settled.workflowId, null);
      const log = (await events(m.systemId)).map((e) => e.type);
      const operatorAt = log.lastIndexOf(labelOf(c.ends));
      assert.ok(operatorAt >= 0, `the operator's ${labelOf(c.ends)} is recorded`);
      assert.deepEqual(
        log.slice(operatorAt).filter((t) => t === labelOf(c.inProgress)),
        [],
        `no ${labelOf(c.inProgress)} after ${labelOf(c.ends)}: ${log.join(', ')}`,
      );
      // A refused claim, or one given up on, records nothing of the runbook, not even its opening
      // netboot's announcements (carried by the claim since lean-open).
      const said = (await events(m.systemId)).slice(operatorAt).map((e) => e.description);
      if (first !== 'applied')
        assert.deepEqual(
          said.filter((d) => d.startsWith('Powering on')),
          [],
          said.join(' | '),
        );
    });
  });

  it('a start whose commit was lost (Temporal accepted it, the machine was never written): the workflow applies the transition itself', async () => {
    // Commissioned once: the machine carries that finished start's token, released.
    const m = await readyMachine('lost-commit');
    assert.equal(m.workflowId, null);
    await region.services.workflows.start(WorkflowType.commission, lifecycleWorkflowId(m.systemId), {
      systemId: m.systemId,
      hostname: m.hostname,
      rackQueue: region.rackQueue,
      deadlines: { nodeTimeoutMs: NODE_TIMEOUT_MS },
      claimToken: 'a-start-whose-commit-was-lost',
    });
    const done = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(done.workflowId, null);
    const log = (await events(m.systemId)).map((e) => e.type);
    assert.equal(log.filter((t) => t === 'Commissioning').length >= 2, true, `commissioned twice: ${log.join(', ')}`);
  });

  it('refuses a second lifecycle while one runs, and invalid transitions', async () => {
    const m = await newMachine('c-twice');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await assert.rejects(
      region.services.actions.commission(admin, m.systemId),
      /Commission is not available because of the current state of the node\./,
    );
    await assert.rejects(
      region.services.actions.deploy(admin, m.systemId, {
        distroSeries: 'jammy',
        userData: '',
        agentName: '',
        comment: '',
      }),
      /Can't deploy a machine that is in the 'Commissioning' state/,
    );
    await region.services.actions.abort(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.NEW);
  });
});
