// What an operator sees of a machine's operation in Temporal (issue 21 item 3): the workflow's
// static summary and details, the activities' one-line summaries, the step query (step, deadline,
// last heard), the Owner and Operation search attributes through the real `temporal` CLI, and the
// same step in the machine's API JSON. Real HTTP, PostgreSQL and Temporal.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId, SearchAttribute, STEP_QUERY, type OperationStep } from '../../src/contracts/workflows';
import { MachineEntity } from '../../src/region/db/entities';
import { STEP_CACHE_TTL_MS } from '../../src/region/services/step-cache';
import { findTemporalCli } from '../../src/runtime/temporal-dev-server';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { testInfra } from '../helpers/infra';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

const run = promisify(execFile);
type Json = Record<string, unknown>;

/** The one-line summaries of the activities a workflow scheduled (local ones: their markers), in order. */
async function activitySummaries(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter(
      (e) =>
        e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    )
    .map((e) => {
      const data = e.userMetadata?.summary?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as string) : '';
    });
}

describe('what an operator sees in Temporal (real CLI, HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);
  const temporal = (...args: string[]) =>
    run(findTemporalCli(process.env.TEMPORAL_CLI_PATH), [
      ...args,
      '--address',
      testInfra().temporalAddress,
      '--namespace',
      region.namespace,
      '--output',
      'json',
    ]);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('summaries, details, the step query, Owner/Operation and the API JSON show a deploy waiting for its machine', async () => {
    const created = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname: 'ov-1',
        architecture: 'amd64/generic',
        mac_addresses: macAddress(),
        power_type: 'ipmi',
        power_parameters_power_address: '10.0.0.5',
        power_parameters_power_user: 'admin',
        power_parameters_power_pass: 'secret',
      },
    });
    assert.equal(created.status, 200, created.text);
    const systemId = (created.body as Json).system_id as string;
    await waitForStatus(region.services, systemId, S.READY);
    const handle = region.client.workflow.getHandle(lifecycleWorkflowId(systemId));

    // The commissioning that made it READY: summary, details, and the activities' one-liners.
    const commissioned = await handle.describe();
    assert.equal(await commissioned.staticSummary(), 'Commission ov-1');
    assert.match((await commissioned.staticDetails()) ?? '', new RegExp(`\\*\\*system_id\\*\\*: ${systemId}`));
    const steps = await activitySummaries(handle);
    assert.ok(steps.includes('Power on ov-1 via IPMI 10.0.0.5'), steps.join('\n'));
    assert.ok(steps.includes('Power off ov-1 via IPMI 10.0.0.5'), steps.join('\n'));
    // The closing power-off's outcome is recorded with the run's (lean-close).
    assert.ok(steps.includes('Record power state off; record status Ready'), steps.join('\n'));
    assert.ok(steps.includes('Claim ov-1, record status Commissioning'), steps.join('\n'));
    assert.ok(
      steps.every((s) => s !== ''),
      steps.join('\n'),
    );
    // The workflow list's result closes before the next operation; its machine never answers now.
    await handle.result();
    rack.behaviour.set(systemId, 'silent');
    const deploy = await api.call('POST', `/MAAS/api/2.0/machines/${systemId}/op-deploy`, {
      key: admin,
      form: { distro_series: 'jammy' },
    });
    assert.equal(deploy.status, 200, deploy.text);
    assert.equal((deploy.body as Json).operation_step, null, "the deploy's answer does not query its new workflow");

    let step: OperationStep | undefined;
    for (let i = 0; i < 100 && step?.step !== 'wait for the installation'; i++) {
      step = await handle.query<OperationStep>(STEP_QUERY);
      if (step.step !== 'wait for the installation') await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(Object.keys(step!).sort(), ['deadline', 'lastHeardAt', 'silenceMs', 'step']);
    assert.equal(step!.step, 'wait for the installation');
    assert.equal(step!.lastHeardAt, null);
    const deadline = Date.parse(step!.deadline ?? '');
    assert.ok(deadline > Date.now(), `deadline ${step!.deadline} is in the future`);
    const silenceMs = step!.silenceMs!;
    assert.ok(silenceMs > 0, `the wait allows ${silenceMs} ms of silence`);

    const deploying = await handle.describe();
    assert.equal(await deploying.staticSummary(), 'Deploy jammy to ov-1');
    const details = (await deploying.staticDetails()) ?? '';
    for (const line of ['**operation**: deploy', '**hostname**: ov-1', '**owner**: admin', '**image**: jammy'])
      assert.ok(details.split('\n').includes(line), details);
    assert.deepEqual(deploying.searchAttributes[SearchAttribute.owner], ['admin']);
    assert.deepEqual(deploying.searchAttributes[SearchAttribute.operation], ['deploy']);

    // The machine reports progress. The workflow claimed it quietly (leaner-history): the region
    // keeps the report's time rather than signalling it, so the workflow's own step is unchanged
    // until its deadline; the machine's JSON below moves both times on by the kept report.
    const m = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId });
    await region.services.metadata.signal(m, { status: 'WORKING', error: '', files: new Map() });
    const [{ kept }] = (await region.services.db.query(
      `SELECT p.last_report_at AS kept FROM machine_progress p JOIN machines m ON m.id = p.machine_id
        WHERE m.system_id = $1`,
      [systemId],
    )) as [{ kept: Date | null }];
    assert.ok(kept, 'the report is kept');
    assert.equal((await handle.query<OperationStep>(STEP_QUERY)).lastHeardAt, null, 'not signalled');

    // The API: one machine's JSON shows the step (moved on by the kept report); a listing does not
    // ask Temporal. One answer serves a machine's reads for STEP_CACHE_TTL_MS.
    const until = Date.now() + STEP_CACHE_TTL_MS + 2_000;
    const read = async () =>
      (await api.call('GET', `/MAAS/api/2.0/machines/${systemId}/`, { key: admin })).body as Json;
    let one = await read();
    while (!(one.operation_step as Json | null)?.last_heard && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      one = await read();
    }
    // The kept report's time (placed by its age, so within a few ms of the database's own stamp),
    // and the deadline node_timeout after it.
    const shown = one.operation_step as { step: string; deadline: string; last_heard: string };
    assert.equal(shown.step, 'wait for the installation');
    assert.ok(
      Math.abs(Date.parse(shown.last_heard) - kept.getTime()) < 1_000,
      `last_heard ${shown.last_heard}, kept ${kept.toISOString()}`,
    );
    assert.equal(Date.parse(shown.deadline) - Date.parse(shown.last_heard), silenceMs);
    const listed = (await api.call('GET', '/MAAS/api/2.0/machines/', { key: admin })).body as Json[];
    const inList = listed.find((x) => x.system_id === systemId)!;
    assert.ok(!('operation_step' in inList), 'a listing has no operation_step');

    // The real CLI: the step query, and the new search attributes in a visibility query.
    const queried = await temporal('workflow', 'query', '--workflow-id', handle.workflowId, '--type', STEP_QUERY);
    assert.match(queried.stdout, /wait for the installation/);
    const query = `SystemId="${systemId}" AND Owner="admin" AND Operation="deploy" AND ExecutionStatus="Running"`;
    let listedIds: string[] = [];
    // Visibility lags the start by a moment; the attributes themselves are asserted by describe above.
    for (let i = 0; i < 100 && listedIds.length === 0; i++) {
      const { stdout } = await temporal('workflow', 'list', '--query', query);
      // `--output json` prints the executions as one JSON array (nothing when none match).
      const found = (stdout.trim() ? JSON.parse(stdout) : []) as Array<{ execution: { workflowId: string } }>;
      listedIds = found.map((w) => w.execution.workflowId);
      if (listedIds.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(listedIds, [handle.workflowId]);

    // Done: the abort's cleanup leaves the machine ALLOCATED, and its read shows no step.
    const abort = await api.call('POST', `/MAAS/api/2.0/machines/${systemId}/op-abort`, { key: admin });
    assert.equal(abort.status, 200, abort.text);
    await waitForStatus(region.services, systemId, S.ALLOCATED);
    const after = (await api.call('GET', `/MAAS/api/2.0/machines/${systemId}/`, { key: admin })).body as Json;
    assert.equal(after.operation_step, null);
  });
});
