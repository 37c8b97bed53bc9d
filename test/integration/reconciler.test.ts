// The reconciler against real Temporal and PostgreSQL: a machine whose workflow ended without its
// outcome (terminated) is failed; what Temporal's visibility lists as running is left alone
// without asking each workflow; Temporal is asked before the machine's row lock is taken.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId } from '../../src/contracts/workflows';
import { Reconciler } from '../../src/region/reconciler';
import { useLifecycleRegion, type Admin } from '../helpers/lifecycle-region';
import { waitForStatus, type TestRegion } from '../helpers/region';

const NODE_TIMEOUT_MS = 3_000;

describe('the reconciler (real Temporal, real PostgreSQL)', () => {
  const lr = useLifecycleRegion(NODE_TIMEOUT_MS);
  const { rack, newMachine } = lr;
  let region: TestRegion;
  let admin: Admin;
  before(() => {
    region = lr.region;
    admin = lr.admin;
  });
  /** Until the machine's workflow has completed its first workflow task (the claim's, since lean-start). */
  const firstTaskDone = async (systemId: string) => {
    const done = async () =>
      ((await region.client.workflow.getHandle(lifecycleWorkflowId(systemId)).fetchHistory()).events ?? []).some(
        (e) => e.workflowTaskCompletedEventAttributes,
      );
    for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await done(), 'the first workflow task completed');
  };

  /** Until `holds` (up to 30 s: visibility can lag on a loaded machine), or fail saying `what`. */
  const until = async (holds: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 600 && !(await holds()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await holds(), what);
  };
  /** Whether Temporal's visibility lists the machine's workflow as running (the reconciler's first look). */
  const listed = async (systemId: string) => {
    const id = lifecycleWorkflowId(systemId);
    return (await region.services.workflows.listedRunning!([id])).has(id);
  };
  /** Until visibility no longer lists the machine's workflow as running (it lags a terminate by a moment). */
  const unlisted = (systemId: string) =>
    until(async () => !(await listed(systemId)), 'visibility lists the terminated workflow as closed');
  const poweredOn = (systemId: string) =>
    until(
      async () => (await waitForStatus(region.services, systemId, S.COMMISSIONING)).powerState === 'on',
      'powered on',
    );

  it('a terminated workflow does not strand the machine: the reconciler fails it', async () => {
    const m = await newMachine('c-term');
    rack.behaviour.set(m.systemId, 'silent');
    await region.services.actions.commission(admin, m.systemId);
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    // Terminated while it waits for the machine: a local activity the terminate interrupts would
    // still write the machine, and the reconciler leaves a machine that changed for its next pass.
    await poweredOn(m.systemId);
    await region.client.workflow.getHandle(lifecycleWorkflowId(m.systemId)).terminate('operator');
    await unlisted(m.systemId);
    const reconciler = new Reconciler(region.services.db, region.services.workflows, {
      graceMs: 0,
      log: () => undefined,
    });
    assert.deepEqual(await reconciler.reconcile(), [m.systemId]);
    const failed = await waitForStatus(region.services, m.systemId, S.FAILED_COMMISSIONING);
    assert.match(failed.statusMessage, /was terminated/);
    assert.deepEqual(await reconciler.reconcile(), [], 'a second pass finds nothing');
  });

  it('the reconciler leaves what visibility lists as running alone for a while and asks the rest; a listing that fails falls back to asking each', async () => {
    // Deadlines far beyond this test: the silent machine's workflow must still run at its end.
    const patient = lr.actionsWith({ nodeTimeoutMs: 120_000 });
    const running = await newMachine('c-listed');
    const ended = await newMachine('c-unlisted');
    for (const m of [running, ended]) {
      rack.behaviour.set(m.systemId, 'silent');
      await patient.commission(admin, m.systemId);
      // Powered on: no local activity of its is left to write the machine after a terminate.
      await poweredOn(m.systemId);
    }
    await region.client.workflow.getHandle(lifecycleWorkflowId(ended.systemId)).terminate('operator');
    await unlisted(ended.systemId);
    // Visibility lags a start too: until it lists the running one, the reconciler would ask of it.
    await until(() => listed(running.systemId), 'visibility lists the running workflow');
    // An ID its query could misread is not listed (the reconciler asks it on its own).
    assert.deepEqual([...(await region.services.workflows.listedRunning!(["machine:it's"]))], []);

    const asked: string[] = [];
    let listingFails = false;
    const workflows = new Proxy(region.services.workflows, {
      get: (target, key, receiver) =>
        key === 'state'
          ? (workflowId: string) => (asked.push(workflowId), target.state(workflowId))
          : key === 'listedRunning'
            ? (ids: readonly string[]) =>
                listingFails ? Promise.reject(new Error('visibility refused the query')) : target.listedRunning!(ids)
            : Reflect.get(target, key, receiver),
    });
    const said: string[] = [];
    const trustMs = 1_500;
    const reconciler = new Reconciler(region.services.db, workflows, {
      graceMs: 0,
      log: (l) => said.push(l),
      listingTrustMs: trustMs,
    });
    const askedOfRunning = async () => {
      asked.length = 0;
      assert.deepEqual(await reconciler.reconcile(), [], 'a running workflow is not failed');
      return asked.includes(lifecycleWorkflowId(running.systemId));
    };
    try {
      assert.deepEqual(await reconciler.reconcile(), [ended.systemId]);
      assert.ok(asked.includes(lifecycleWorkflowId(ended.systemId)), 'the unlisted one is asked of Temporal');
      assert.ok(
        !asked.includes(lifecycleWorkflowId(running.systemId)),
        `the listed one is not asked: ${asked.join(', ')}`,
      );
      // Listed for longer than the trust: asked once (a visibility that lists a run that ended
      // must not hide its machine for good), then trusted anew.
      await new Promise((r) => setTimeout(r, trustMs + 100));
      assert.equal(await askedOfRunning(), true, 'asked once its trust ran out');
      assert.equal(await askedOfRunning(), false, 'trusted anew after the ask');

      listingFails = true;
      assert.equal(await askedOfRunning(), true, 'without the listing, each is asked');
      assert.ok(
        said.some((l) => /listing the running workflows failed, asking each: visibility refused the query/.test(l)),
        said.join(' | '),
      );
      assert.equal(
        (await waitForStatus(region.services, running.systemId, S.COMMISSIONING)).workflowId,
        lifecycleWorkflowId(running.systemId),
      );
    } finally {
      // Its workflow ends (a cancel) rather than run on beside the file's other tests.
      await region.services.actions.markBroken(admin, running.systemId, 'done with it');
    }
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
    await unlisted(m.systemId);

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
});
