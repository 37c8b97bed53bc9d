// An operator's interventions while a lifecycle workflow runs, on a real Temporal dev server and
// real PostgreSQL: a cancel during the claim, mark_broken and abort in the window before the
// workflow's first step or with Temporal unreachable, a lost commit. The reconciler's are in
// reconciler.test.ts.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { labelOf, MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId, WorkflowType } from '../../src/contracts/workflows';
import { mapDomainError } from '../../src/api/domain-errors';
import type { WorkflowGateway } from '../../src/region/services/workflow-gateway';
import { deployOpts, useLifecycleRegion, type Admin } from '../helpers/lifecycle-region';
import { waitForStatus, type TestRegion } from '../helpers/region';

const NODE_TIMEOUT_MS = 3_000;

describe('lifecycle workflows: interventions while they run (real Temporal, real PostgreSQL)', () => {
  const lr = useLifecycleRegion(NODE_TIMEOUT_MS);
  const { rack, held, newMachine, events, readyMachine } = lr;
  let region: TestRegion;
  let admin: Admin;
  before(() => {
    region = lr.region;
    admin = lr.admin;
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

  // Temporal unreachable when an operator stops a running operation: the 503 says nothing was
  // changed, and that must be so (issue 18 review): not BROKEN with its workflow running on, not
  // abort's AUDIT event recorded. The same calls with Temporal back do what they say.
  it('mark_broken and abort with Temporal unreachable change nothing; the machine keeps its workflow', async () => {
    const m = await newMachine('c-outage');
    rack.behaviour.set(m.systemId, 'silent');
    // A deadline far beyond this test: the silent machine's workflow must still be running at its
    // end, however slow the machine running the test is (the file's 3 s would time it out).
    const patient = lr.actionsWith({ nodeTimeoutMs: 120_000 });
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
    const actions = lr.actionsWith({ nodeTimeoutMs: NODE_TIMEOUT_MS, workflows: down });
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
