// `temporal workflow reset` of a lifecycle workflow is a retry (issue 21): the real `temporal` CLI
// resets a failed run, the reset run reclaims the machine where its run chain left it, and the
// operation finishes in the right state with an event saying so; a machine that moved on since is
// refused, untouched.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { RegionActivities } from '../../src/contracts/activities';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId } from '../../src/contracts/workflows';
import { Reconciler } from '../../src/region/reconciler';
import { findTemporalCli } from '../../src/runtime/temporal-dev-server';
import { createAdmin, machineInput } from '../helpers/factories';
import { testInfra, workflowBundle } from '../helpers/infra';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

const NODE_TIMEOUT_MS = 3_000;
// The reason as Temporal records it: the CLI puts the operator's user name before it.
const RETRIED = /^Retried from Temporal \(reset to event \d+: (.*)\)\.$/;

/** The region's activities, with the next registration's event failing once (when armed). */
class FailOnce {
  registration = false;
  wrap(a: RegionActivities): RegionActivities {
    return {
      ...a,
      recordEvent: async (e) => {
        if (this.registration && e.description.startsWith('Registered as an already deployed machine')) {
          this.registration = false;
          throw ApplicationFailure.nonRetryable('The database refused the event.', 'TestFailure');
        }
        return a.recordEvent(e);
      },
    };
  }
}

describe('`temporal workflow reset` is a retry (real temporal CLI, real Temporal, real PostgreSQL)', () => {
  let region: TestRegion;
  const rack = new ScriptedRack();
  const failOnce = new FailOnce();
  let admin: Awaited<ReturnType<typeof createAdmin>>;

  before(async () => {
    region = await startTestRegion({
      nodeTimeoutMs: NODE_TIMEOUT_MS,
      rack: rack.activities(),
      wrapRegionActivities: (a) => failOnce.wrap(a),
    });
    rack.services = region.services;
    admin = await createAdmin(region.services);
  });
  after(async () => region?.stop());

  const newMachine = (hostname: string) => region.services.machines.create(machineInput({ hostname }));
  const readyMachine = async (hostname: string) => {
    const m = await newMachine(hostname);
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
    return m;
  };
  const deployOpts = { distroSeries: 'jammy', userData: '', agentName: '', comment: '' };
  const releaseOpts = { erase: false, secureErase: false, quickErase: false, comment: '' };
  const events = async (systemId: string) =>
    (await region.services.db.query(
      `SELECT e.type, e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
      [systemId],
    )) as Array<{ type: string; description: string }>;
  const retried = async (systemId: string) =>
    (await events(systemId)).filter((e) => RETRIED.test(e.description)).map((e) => `${e.type}: ${e.description}`);

  /** Wait for the machine's lifecycle workflow run to close. */
  const closed = async (systemId: string) => {
    const handle = region.client.workflow.getHandle(lifecycleWorkflowId(systemId));
    await handle.result().catch(() => undefined);
    return handle.describe();
  };

  /** `temporal workflow reset` of the machine's lifecycle workflow; returns the reset run's handle. */
  const reset = async (systemId: string, reason: string, point: string[]) => {
    const workflowId = lifecycleWorkflowId(systemId);
    const { runId: before } = await region.client.workflow.getHandle(workflowId).describe();
    await promisify(execFile)(findTemporalCli(process.env.TEMPORAL_CLI_PATH), [
      'workflow',
      'reset',
      '--address',
      testInfra().temporalAddress,
      '--namespace',
      region.namespace,
      '--workflow-id',
      workflowId,
      '--reason',
      reason,
      ...point,
    ]);
    const handle = region.client.workflow.getHandle(workflowId);
    const described = await handle.describe();
    assert.notEqual(described.runId, before, 'the reset started a new run');
    return handle;
  };

  /** The reset run fails, refused with the reason `reason` matches (its failure's cause). */
  const refused = async (handle: ReturnType<TestRegion['client']['workflow']['getHandle']>, reason: RegExp) =>
    assert.rejects(handle.result(), (err: Error) => {
      assert.match((err as { cause?: Error }).cause?.message ?? '', reason);
      return true;
    });

  /** The reset run's history replays on the current code (its resume markers where it recorded them). */
  const replays = async (handle: ReturnType<TestRegion['client']['workflow']['getHandle']>) =>
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, await handle.fetchHistory(), handle.workflowId);

  it('commissioning failed on a BMC error; once the BMC answers, reset to the first workflow task commissions it READY', async () => {
    const m = await newMachine('reset-c');
    rack.behaviour.set(m.systemId, 'bmc-rejects');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    await closed(m.systemId);

    rack.behaviour.set(m.systemId, 'answers');
    const handle = await reset(m.systemId, 'BMC password fixed', ['--type', 'FirstWorkflowTask']);
    assert.equal((await handle.result()).status, S.READY);
    const done = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(done.commissioningPassed, true);
    assert.equal(done.workflowId, null);
    const again = await retried(m.systemId);
    assert.equal(again.length, 1, again.join('\n'));
    assert.match(
      again[0]!,
      /^Commissioning: Retried from Temporal \(reset to event \d+: (\w+: )?BMC password fixed\)\.$/,
    );
    const log = (await events(m.systemId)).map((e) => e.description);
    assert.ok(log.includes('Failed commissioning -> Commissioning.'), `back to Commissioning: ${log.join(', ')}`);
    await replays(handle);
  });

  it('commissioning scripts failed (the machine reported FAILED); reset to the first workflow task waits for new reports, not the reapplied one', async () => {
    const m = await newMachine('reset-c-scripts');
    rack.behaviour.set(m.systemId, 'fails');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    await closed(m.systemId);

    rack.behaviour.set(m.systemId, 'answers');
    const handle = await reset(m.systemId, 'scripts fixed', ['--type', 'FirstWorkflowTask']);
    const history = (await handle.fetchHistory()).events!;
    assert.ok(
      history.some((e) => e.workflowExecutionSignaledEventAttributes),
      'Temporal reapplied the FAILED report to the reset run',
    );
    assert.equal((await handle.result()).status, S.READY);
    await waitForStatus(region.services, m.systemId, S.READY);
    await replays(handle);
  });

  it('deployment timed out; reset to the last workflow task deploys it', async () => {
    const m = await readyMachine('reset-d');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_DEPLOYMENT, 30_000);
    assert.match(failed.statusMessage, /timed out/);
    await closed(m.systemId);

    rack.behaviour.set(m.systemId, 'answers');
    const handle = await reset(m.systemId, 'machine cabled', ['--type', 'LastWorkflowTask']);
    assert.equal((await handle.result()).status, S.DEPLOYED);
    const deployed = await waitForStatus(region.services, m.systemId, S.DEPLOYED);
    assert.equal(deployed.ownerId, admin.user.id);
    assert.equal(deployed.workflowId, null);
    const again = await retried(m.systemId);
    assert.equal(again.length, 1, again.join('\n'));
    assert.match(again[0]!, /^Deploying: Retried from Temporal \(reset to event \d+: (\w+: )?machine cabled\)\.$/);
    await replays(handle);
  });

  it('release failed on a BMC error; reset to a chosen event (the task that powered off) releases it READY', async () => {
    const m = await readyMachine('reset-r');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    await waitForStatus(region.services, m.systemId, S.DEPLOYED);
    await closed(m.systemId);
    rack.behaviour.set(m.systemId, 'bmc-rejects');
    await region.services.actions.release(admin, m.systemId, releaseOpts);
    await waitForStatus(region.services, m.systemId, S.FAILED_RELEASING);
    await closed(m.systemId);

    // The workflow task that scheduled the first power-off.
    const history = (await region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId)).fetchHistory()).events!;
    const powerOff = history.findIndex(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'powerOff',
    );
    const task = history
      .slice(0, powerOff)
      .findLast(
        (e) => e.workflowTaskCompletedEventAttributes !== undefined && e.workflowTaskCompletedEventAttributes !== null,
      );
    assert.ok(task, 'a workflow task scheduled the power-off');

    rack.behaviour.set(m.systemId, 'answers');
    const eventId = String(task.eventId);
    const handle = await reset(m.systemId, 'BMC back', ['--event-id', eventId]);
    assert.equal((await handle.result()).status, S.READY);
    const released = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(released.ownerId, null);
    const again = await retried(m.systemId);
    assert.equal(again.length, 1, again.join('\n'));
    assert.match(
      again[0]!,
      new RegExp(`^Releasing: Retried from Temporal \\(reset to event ${eventId}: (\\w+: )?BMC back\\)\\.$`),
    );
    await replays(handle);
  });

  it('registration of a deployed machine failed; reset to the first workflow task records it', async () => {
    failOnce.registration = true;
    const m = await region.services.machines.create({
      hostname: 'reset-reg',
      macAddresses: [],
      powerParameters: {},
      deployed: true,
      ownerId: admin.user.id,
    });
    // What the API's create does for a deployed machine (MachineOperations.create).
    await region.services.actions.startForNewMachine(m, 'registerDeployed');
    assert.equal((await closed(m.systemId)).status.name, 'FAILED', 'the registration failed on its event');
    const handle = await reset(m.systemId, 'database back', ['--type', 'FirstWorkflowTask']);
    assert.equal((await handle.result()).status, S.DEPLOYED);
    assert.equal((await waitForStatus(region.services, m.systemId, S.DEPLOYED)).workflowId, null);
    const log = (await events(m.systemId)).map((e) => `${e.type}: ${e.description}`);
    assert.ok(
      log.includes('Deployed: Registered as an already deployed machine; no power action taken.'),
      log.join('\n'),
    );
    assert.equal((await retried(m.systemId)).length, 1, log.join('\n'));
    await replays(handle);
  });

  it('a machine that moved on since (mark_broken) refuses the reset: the run fails with the reason, the machine untouched', async () => {
    const m = await newMachine('reset-broken');
    rack.behaviour.set(m.systemId, 'bmc-rejects');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    await closed(m.systemId);
    await region.services.actions.markBroken(admin, m.systemId, 'bad disk');
    const before = await events(m.systemId);
    const calls = rack.calls.length;

    rack.behaviour.set(m.systemId, 'answers');
    const handle = await reset(m.systemId, 'try again', ['--type', 'FirstWorkflowTask']);
    await refused(handle, /reset-broken has moved on since this commissioning \(it is Broken now\); not retried\./);
    const broken = await waitForStatus(region.services, m.systemId, S.BROKEN);
    assert.equal(broken.statusMessage, 'bad disk');
    assert.deepEqual(await events(m.systemId), before, 'no event');
    assert.equal(rack.calls.length, calls, 'no power action');
    await replays(handle);
  });

  it('a succeeded commissioning refuses a reset to its last workflow task (where its outcome was recorded): the machine stays READY, untouched', async () => {
    const m = await readyMachine('reset-succeeded');
    await closed(m.systemId);
    const before = await events(m.systemId);
    const calls = rack.calls.length;

    const handle = await reset(m.systemId, 'again', ['--type', 'LastWorkflowTask']);
    await refused(handle, /reset-succeeded has moved on since this commissioning \(it is Ready now\); not retried\./);
    const ready = await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(ready.workflowId, null);
    assert.deepEqual(await events(m.systemId), before, 'no event');
    assert.equal(rack.calls.length, calls, 'no power action');
    await replays(handle);
  });

  it('a failed deploy fixed by hand and allocated again refuses its reset: the machine is untouched', async () => {
    const m = await readyMachine('reset-reallocated');
    rack.behaviour.set(m.systemId, 'bmc-rejects');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    await waitForStatus(region.services, m.systemId, S.FAILED_DEPLOYMENT);
    await closed(m.systemId);
    // User actions only: the machine keeps the failed deploy's claim token all along.
    await region.services.actions.markBroken(admin, m.systemId, 'bad cable');
    await region.services.actions.markFixed(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
    // mark_fixed keeps the owner, so the new allocation is theirs (a new request: the same hole).
    await region.services.allocation.allocate(admin, {
      systemId: m.systemId,
      arch: [],
      tags: [],
      notTags: [],
      notInZone: [],
      notInPool: [],
      storage: [],
      interfaces: [],
      subnets: [],
      notSubnets: [],
      fabrics: [],
      notFabrics: [],
      vlans: [],
      notVlans: [],
      dryRun: false,
      verbose: false,
    });
    await waitForStatus(region.services, m.systemId, S.ALLOCATED);
    const before = await events(m.systemId);
    const calls = rack.calls.length;

    rack.behaviour.set(m.systemId, 'answers');
    const handle = await reset(m.systemId, 'cable fixed', ['--type', 'FirstWorkflowTask']);
    await refused(
      handle,
      /reset-reallocated has moved on since this deploying \(another operation or a user action; it is Allocated now\); not retried\./,
    );
    const after = await waitForStatus(region.services, m.systemId, S.ALLOCATED);
    assert.equal(after.ownerId, admin.user.id);
    assert.equal(after.workflowId, null);
    assert.deepEqual(await events(m.systemId), before, 'no event');
    assert.equal(rack.calls.length, calls, 'no power action');
  });

  it('the reconciler never fights a reset run: a terminated commissioning reset holds its machine until it finishes', async () => {
    const m = await newMachine('reset-term');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    await region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId)).terminate('operator');

    const handle = await reset(m.systemId, 'resume commissioning', ['--type', 'FirstWorkflowTask']);
    for (let i = 0; i < 100 && (await retried(m.systemId)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    const again = await retried(m.systemId);
    assert.equal(again.length, 1, again.join('\n'));
    assert.match(
      again[0]!,
      /^Commissioning: Retried from Temporal \(reset to event \d+: (\w+: )?resume commissioning\)\.$/,
    );
    const reconciler = new Reconciler(region.services.db, region.services.workflows, {
      graceMs: 0,
      log: () => undefined,
    });
    assert.deepEqual(await reconciler.reconcile(), [], 'the reset run holds the machine');
    assert.equal(
      (await waitForStatus(region.services, m.systemId, S.COMMISSIONING)).workflowId,
      lifecycleWorkflowId(m.systemId),
    );

    rack.pressPowerButton(m.systemId);
    assert.equal((await handle.result()).status, S.READY);
    await waitForStatus(region.services, m.systemId, S.READY);
  });
});
