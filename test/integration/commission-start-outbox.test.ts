// op=commission commits the status change with the start it owes (workflow_starts), then starts
// the workflow after the commit (issue 17 item 3). Temporal unreachable at that moment: the 503
// says what changed (the machine is Commissioning, its start recorded), and the start is
// completed by a repeated request or by the reconciler, never run twice. A repeat completes the
// recorded start of deploy and release too, only if it asks the same (else a 409 naming what
// differs), and a repeat racing the start that just went out is answered as the repeat it is.
// The request answers once the start is made or after its short wait: a slow start goes on in the
// background (and its failure leaves the start to the reconciler); a start that fails in time, or
// any while Temporal is known to be away, still answers 503.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { RegionActivities } from '../../src/contracts/activities';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId, WorkflowType } from '../../src/contracts/workflows';
import { mapDomainError } from '../../src/api/domain-errors';
import { UnavailableError } from '../../src/region/errors';
import { Reconciler } from '../../src/region/reconciler';
import { MachineActions } from '../../src/region/services/machine-actions';
import type { WorkflowGateway } from '../../src/region/services/workflow-gateway';
import { pendingStartOf } from '../../src/region/services/workflow-starts';
import { TemporalWorkflowGateway } from '../../src/region/temporal/gateway';
import { createAdmin, machineInput } from '../helpers/factories';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

describe('op=commission: the start after the commit', () => {
  let region: TestRegion;
  const rack = new ScriptedRack();
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  /** The region's actions over a gateway whose start fails as @temporalio/client does with the server down. */
  let downActions: MachineActions;
  /** Machines whose workflow's first step (which removes the outbox row) waits until released. */
  const held = new Map<string, Promise<void>>();
  const holdFirstStep = (systemId: string): (() => void) => {
    let release!: () => void;
    held.set(systemId, new Promise<void>((r) => (release = r)));
    return release;
  };
  const gated = (a: RegionActivities): RegionActivities => ({
    ...a,
    beginTransition: async (i) => {
      await held.get(i.systemId);
      return a.beginTransition(i);
    },
  });

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities(), wrapRegionActivities: gated });
    rack.services = region.services;
    admin = await createAdmin(region.services);
    const unreachable = async (): Promise<never> => {
      throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
        code: 14,
        details: 'No connection established',
        metadata: {},
      });
    };
    // The region's own gateway over a client whose calls fail as they do with the server down.
    const down = new TemporalWorkflowGateway({ workflow: { start: unreachable } } as unknown as Client);
    downActions = new MachineActions(
      region.services.db,
      down,
      region.services.racks,
      async () => ({ nodeTimeoutMs: 60_000 }),
      region.services.bootResources,
      region.services.config,
    );
  });
  after(async () => region?.stop());

  const pendingRows = async (systemId: string) =>
    (
      (await region.services.db.query(
        `SELECT count(*)::int AS n FROM workflow_starts s JOIN machines m ON m.id = s.machine_id WHERE m.system_id = $1`,
        [systemId],
      )) as Array<{ n: number }>
    )[0]!.n;
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    return mapDomainError(err);
  };

  /** A reconciler pass (no grace) completes the machine's recorded start: not failed, READY, its row gone. */
  const reconcilerStartsIt = async (systemId: string) => {
    const reconciler = new Reconciler(region.services.db, region.services.workflows, {
      graceMs: 0,
      log: () => undefined,
    });
    assert.deepEqual(await reconciler.reconcile(), [], 'not failed');
    await waitForStatus(region.services, systemId, S.READY);
    assert.equal(await pendingRows(systemId), 0);
    return reconciler;
  };

  it('commits, starts after the commit, and leaves no outbox row', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-ok' }));
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(await pendingRows(m.systemId), 0);
  });

  it('Temporal down: a 503 that says the start was recorded; repeating the request starts it', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-retry' }));
    const r = await refusal(downActions.commission(admin, m.systemId));
    assert.equal(r?.status, 503);
    assert.match(String(r?.body), /unavailable/);
    assert.match(String(r?.body), /recorded: machine \w+ is Commissioning/);
    assert.doesNotMatch(String(r?.body), /nothing was changed/);
    const now = await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    assert.equal(now.workflowId, lifecycleWorkflowId(m.systemId));
    assert.equal(await pendingRows(m.systemId), 1);
    assert.equal(await region.services.workflows.state(lifecycleWorkflowId(m.systemId)), 'not_found');
    // The client repeats its request once Temporal is back: the recorded start, not a 400.
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(await pendingRows(m.systemId), 0);
    const starts = rack.calls.filter((c) => c === `on:${m.systemId}`);
    assert.equal(starts.length, 1, 'powered on once: one workflow ran');
  });

  it('Temporal down and nobody repeats the request: the reconciler starts the recorded workflow instead of failing the machine', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-reconcile' }));
    assert.equal((await refusal(downActions.commission(admin, m.systemId)))?.status, 503);
    const reconciler = await reconcilerStartsIt(m.systemId);
    assert.deepEqual(await reconciler.reconcile(), [], 'a second pass finds nothing');
  });

  const deployOpts = { distroSeries: 'jammy', userData: '', agentName: '', comment: '' };
  const noErase = { erase: false, secureErase: false, quickErase: false, comment: '' };
  const workflowState = (systemId: string) => region.services.workflows.state(lifecycleWorkflowId(systemId));
  /**
   * The machine's lifecycle workflow closed: its outcome is recorded (the status) a moment before
   * the run completes, and a test that then asks "did anything start?" must not see that run.
   */
  const workflowClosed = async (systemId: string) => {
    for (const deadline = Date.now() + 15_000; (await workflowState(systemId)) === 'running';) {
      if (Date.now() > deadline) throw new Error(`${systemId}: its workflow still runs after 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const readyMachine = async (hostname: string) => {
    const m = await region.services.machines.create(machineInput({ hostname }));
    await region.services.actions.commission(admin, m.systemId);
    const ready = await waitForStatus(region.services, m.systemId, S.READY);
    await workflowClosed(m.systemId);
    return ready;
  };

  it('commission repeated with other parameters: a 409 naming them, nothing written; the same parameters start it', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-other-skips' }));
    assert.equal((await refusal(downActions.commission(admin, m.systemId)))?.status, 503);
    const r = await refusal(
      region.services.actions.commission(admin, m.systemId, { skipNetworking: false, skipStorage: true }),
    );
    assert.equal(r?.status, 409);
    assert.equal(
      r?.body,
      "This machine's commissioning was recorded with other parameters (skip_storage); repeat the same request, or abort it.",
    );
    const after = await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    assert.equal(after.skipStorage, false, 'the refused request wrote nothing');
    assert.equal(await workflowState(m.systemId), 'not_found', 'nothing started');
    assert.equal(await pendingRows(m.systemId), 1);
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(rack.calls.filter((c) => c === `on:${m.systemId}`).length, 1);
  });

  it('deploy repeated with another distro_series or user_data: a 409 naming them; the same image by another name starts it', async () => {
    const m = await readyMachine('outbox-deploy');
    assert.equal((await refusal(downActions.deploy(admin, m.systemId, deployOpts)))?.status, 503);
    await waitForStatus(region.services, m.systemId, S.DEPLOYING);
    const r = await refusal(
      region.services.actions.deploy(admin, m.systemId, {
        ...deployOpts,
        distroSeries: 'noble',
        userData: 'I2Nsb3VkLWNvbmZpZwo=',
      }),
    );
    assert.equal(r?.status, 409);
    assert.match(String(r?.body), /deployment was recorded with other parameters \(distro_series, user_data\)/);
    assert.equal((await waitForStatus(region.services, m.systemId, S.DEPLOYING)).distroSeries, 'jammy');
    assert.notEqual(await workflowState(m.systemId), 'running', 'nothing started');
    await region.services.actions.deploy(admin, m.systemId, { ...deployOpts, distroSeries: 'ubuntu/jammy' });
    assert.equal(await pendingRows(m.systemId), 0);
    await waitForStatus(region.services, m.systemId, S.DEPLOYED);
  });

  it('release repeated while RELEASING completes its recorded start (not a 200 that leaves it to the reconciler); other erase options: a 409', async () => {
    const m = await readyMachine('outbox-release');
    await region.services.actions.deploy(admin, m.systemId, deployOpts);
    await waitForStatus(region.services, m.systemId, S.DEPLOYED);
    await workflowClosed(m.systemId);
    const offs = () => rack.calls.filter((c) => c === `off:${m.systemId}`).length;
    const offsBefore = offs();
    assert.equal((await refusal(downActions.release(admin, m.systemId, noErase)))?.status, 503);
    await waitForStatus(region.services, m.systemId, S.RELEASING);
    const r = await refusal(region.services.actions.release(admin, m.systemId, { ...noErase, erase: true }));
    assert.equal(r?.status, 409);
    assert.match(String(r?.body), /release was recorded with other parameters \(erase\)/);
    assert.notEqual(await workflowState(m.systemId), 'running', 'nothing started');
    await region.services.actions.release(admin, m.systemId, noErase);
    assert.equal(await pendingRows(m.systemId), 0, 'the repeat started it');
    await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(offs() - offsBefore, 1, 'one release ran');
  });

  it('a repeat racing the start that just went out (its row still there): refused as a second request for an operation in progress (MAAS), never a 503', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-race' }));
    const release = holdFirstStep(m.systemId);
    try {
      assert.equal((await refusal(downActions.commission(admin, m.systemId)))?.status, 503);
      // The first request's start goes out; its workflow has not yet run the step that removes the row.
      const pending = await pendingStartOf(region.services.db.manager, m.systemId);
      assert.ok(pending);
      await region.services.workflows.start(pending.type, pending.workflowId, pending.params as never);
      assert.equal(await workflowState(m.systemId), 'running');
      const other = await refusal(
        region.services.actions.commission(admin, m.systemId, { skipNetworking: true, skipStorage: false }),
      );
      assert.equal(other?.status, 409);
      assert.match(String(other?.body), /other parameters \(skip_networking\)/);
      // The same parameters: the start it would complete is made already, so this is a second
      // commission of a machine commissioning, refused in MAAS's words (as once the row is gone).
      const same = await refusal(region.services.actions.commission(admin, m.systemId));
      assert.equal(same?.status, 400);
      assert.match(JSON.stringify(same?.body), /Commission is not available because of the current state/);
      assert.equal(await pendingRows(m.systemId), 0);
    } finally {
      release();
    }
    await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(rack.calls.filter((c) => c === `on:${m.systemId}`).length, 1, 'one workflow ran');
  });

  /**
   * The region's gateway with its starts held until the test lets them go (or fail): a start that
   * takes as long as the test wants, without timing anything. Counts the earlier-run waits too.
   */
  const heldStarts = (o: { knownUnavailable?: boolean; waitMs?: number } = {}) => {
    const base = region.services.workflows;
    let go!: (fail?: Error) => void;
    const gate = new Promise<Error | undefined>((r) => (go = r));
    const seen = { starts: 0, earlierRunWaits: 0, order: [] as string[] };
    const gateway: WorkflowGateway = {
      ...base,
      cancel: (id) => (seen.order.push('cancel'), base.cancel(id)),
      signal: (id, r) => base.signal(id, r),
      signalWithStart: (t, id, p, r) => base.signalWithStart(t, id, p, r),
      state: (id) => base.state(id),
      waitForClose: (id, ms) => base.waitForClose(id, ms),
      step: (id, ms) => base.step(id, ms),
      execute: (t, id, p, ms) => base.execute(t, id, p, ms),
      waitForEarlierRun: (id) => (seen.earlierRunWaits++, base.waitForEarlierRun(id)),
      start: async (type, id, params) => {
        seen.starts++;
        const fail = await gate;
        if (fail) throw fail;
        const outcome = await base.start(type, id, params);
        seen.order.push(`started ${type}`);
        return outcome;
      },
      knownUnavailable: () => o.knownUnavailable ?? false,
    };
    const actions = new MachineActions(
      region.services.db,
      gateway,
      region.services.racks,
      async () => ({ nodeTimeoutMs: 60_000 }),
      region.services.bootResources,
      region.services.config,
      o.waitMs ?? 50,
    );
    return { actions, seen, go };
  };

  it('a slow start: the request answers before it is made (machine Commissioning, start recorded); the start then runs in the background', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-slow' }));
    const slow = heldStarts();
    // Resolves while the start is still held: the request did not wait for it.
    await slow.actions.commission(admin, m.systemId);
    assert.equal(slow.seen.starts, 1, 'the start was under way when the request answered');
    assert.equal(
      (await waitForStatus(region.services, m.systemId, S.COMMISSIONING)).workflowId,
      lifecycleWorkflowId(m.systemId),
    );
    assert.equal(await pendingRows(m.systemId), 1, 'the start it owes is recorded');
    assert.equal(await workflowState(m.systemId), 'not_found');
    slow.go();
    await slow.actions.drainStarts();
    await waitForStatus(region.services, m.systemId, S.READY);
    assert.equal(await pendingRows(m.systemId), 0);
    assert.equal(rack.calls.filter((c) => c === `on:${m.systemId}`).length, 1, 'one workflow ran');
  });

  it('an abort right after the early answer waits for the start still going out, then cancels the workflow it started', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-slow-abort' }));
    rack.behaviour.set(m.systemId, 'silent');
    const slow = heldStarts();
    await slow.actions.commission(admin, m.systemId);
    const aborting = slow.actions.abort(admin, m.systemId);
    // Held for a while after the abort came in: an abort that did not wait would look for the
    // workflow (cancel) before the start went out, and start its own under the same id.
    await new Promise((r) => setTimeout(r, 500));
    slow.go();
    await aborting;
    assert.deepEqual(slow.seen.order.slice(0, 2), [`started ${WorkflowType.commission}`, 'cancel']);
    assert.equal((await waitForStatus(region.services, m.systemId, S.NEW)).workflowId, null);
    assert.equal(await pendingRows(m.systemId), 0);
  });

  it('an abort while the commission request still waits for its start waits for that start too', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-abort-in-window' }));
    rack.behaviour.set(m.systemId, 'silent');
    const slow = heldStarts({ waitMs: 60_000 });
    const commissioning = slow.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    const aborting = slow.actions.abort(admin, m.systemId);
    await new Promise((r) => setTimeout(r, 500));
    slow.go();
    await Promise.all([commissioning, aborting]);
    assert.deepEqual(slow.seen.order.slice(0, 2), [`started ${WorkflowType.commission}`, 'cancel']);
    assert.equal((await waitForStatus(region.services, m.systemId, S.NEW)).workflowId, null);
  });

  it('a slow start that then fails: no unhandled rejection, the row stays, and the reconciler starts it', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-slow-fail' }));
    const slow = heldStarts();
    await slow.actions.commission(admin, m.systemId);
    slow.go(new UnavailableError('The workflow service (Temporal) is unavailable'));
    await slow.actions.drainStarts();
    assert.equal(await pendingRows(m.systemId), 1);
    assert.equal(await workflowState(m.systemId), 'not_found');
    await reconcilerStartsIt(m.systemId);
  });

  it('Temporal known to be away: the request waits for its start and answers the 503 that says it was recorded', async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-known-down' }));
    const down = heldStarts({ knownUnavailable: true });
    const answer = refusal(down.actions.commission(admin, m.systemId));
    // Held past the request's own wait: a request that did not wait would have answered by now.
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    await new Promise((r) => setTimeout(r, 300));
    down.go(new UnavailableError('The workflow service (Temporal) is unavailable'));
    const r = await answer;
    assert.equal(r?.status, 503);
    assert.match(String(r?.body), /recorded: machine \w+ is Commissioning/);
    assert.equal(await pendingRows(m.systemId), 1);
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.READY);
  });

  it("the earlier run's grace is asked only of a machine that ever had a lifecycle workflow", async () => {
    const m = await region.services.machines.create(machineInput({ hostname: 'outbox-grace' }));
    const first = heldStarts();
    first.go();
    await first.actions.commission(admin, m.systemId);
    assert.equal(first.seen.earlierRunWaits, 0, 'a new machine: no workflow ever ran as machine:<id>');
    await first.actions.drainStarts();
    await waitForStatus(region.services, m.systemId, S.READY);
    const again = heldStarts();
    again.go();
    await again.actions.commission(admin, m.systemId);
    assert.equal(again.seen.earlierRunWaits, 1, 'commissioned before: its earlier run may still be closing');
    await again.actions.drainStarts();
    await waitForStatus(region.services, m.systemId, S.READY);
  });
});
