// A machine's report sent twice. The metadata protocol has no request id, so a machine retries a
// POST whose reply it lost (the region died between commit and reply: ha-regions does this with
// kill -9) and the region sees the same report again. It must record one event and tell the
// workflow once (a final report as a signal; progress, for a workflow since leaner-history, as the
// machine's last report the region keeps); a new report with the same words is recorded again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId } from '../../src/contracts/workflows';
import { REPORT_RETRY_WINDOW_SECONDS } from '../../src/region/services/report-repeats';
import type { Client } from '@temporalio/client';
import { MachineActions } from '../../src/region/services/machine-actions';
import { TemporalWorkflowGateway } from '../../src/region/temporal/gateway';
import type { ApiClient } from '../helpers/api';
import { startApiRegion } from '../helpers/api-region';
import { createAdmin, machineInput } from '../helpers/factories';
import { waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('metadata: a retried report is recorded and signalled once', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    ({ region, api, admin } = await startApiRegion(rack));
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  /** A machine commissioning with a silent environment, and its metadata token. */
  const commissioning = async (hostname: string, mac: string) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { hostname, architecture: 'amd64/generic', mac_addresses: mac, power_type: 'manual', commission: 'false' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    rack.behaviour.set(id, 'silent');
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-commission`, { key: admin })).status, 200);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    // The workflow starts after the status change commits (the outbox): reports go to it once it
    // has powered the machine on, as a real machine's do.
    while (!rack.calls.includes(`on:${id}`)) await new Promise((r) => setTimeout(r, 50));
    const t = (await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=get_token`, { key: admin })).body as Json;
    return { id, key: `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}` };
  };
  const events = async (id: string) =>
    (
      (await region.services.db.query(
        `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id
          WHERE m.system_id = $1 AND (e.description LIKE 'Signal %' OR e.type LIKE 'cloudinit %') ORDER BY e.id`,
        [id],
      )) as Array<{ description: string }>
    ).map((e) => e.description);
  /** When the region last kept a progress report for the machine's quiet workflow (ms), or null. */
  const lastKept = async (id: string) =>
    (
      (await region.services.db.query(
        `SELECT (extract(epoch FROM p.last_report_at) * 1000)::float8 AS at
           FROM machines m LEFT JOIN machine_progress p ON p.machine_id = m.id WHERE m.system_id = $1`,
        [id],
      )) as Array<{ at: number | null }>
    )[0]!.at;
  const signalsHeard = async (id: string) => {
    // A signal that arrives while a workflow task runs (its local activities, say) is buffered by
    // Temporal and written to the history when that task completes: count once none is in flight.
    for (let tries = 0; ; tries++) {
      const events = (await region.client.workflow.getHandle(lifecycleWorkflowId(id)).fetchHistory()).events!;
      const inFlight =
        events.at(-1)?.workflowTaskStartedEventAttributes || events.at(-1)?.workflowTaskScheduledEventAttributes;
      if (!inFlight || tries >= 100) return events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('op=signal: the same report twice in a row is one event and one signal; WORKING, OK, WORKING are three', async () => {
    const { id, key } = await commissioning('repeats-1', '52:54:00:ee:00:01');
    const signal = async (status: string, error = '') => {
      const r = await api.call('POST', '/MAAS/metadata/2012-03-01/', {
        key,
        form: { op: 'signal', status, ...(error ? { error } : {}) },
      });
      assert.equal(r.status, 200, r.text);
    };
    // Progress reaches the workflow as the machine's last report, kept by the region (the workflow
    // claimed it quietly, leaner-history): no signal, whether repeated or not.
    assert.equal(await lastKept(id), null);
    await signal('WORKING', 'Starting 00-maas-01-lshw');
    const first = await lastKept(id);
    assert.ok(first !== null, 'the report is kept');
    await signal('WORKING', 'Starting 00-maas-01-lshw');
    assert.deepEqual(await events(id), ['Signal WORKING: Starting 00-maas-01-lshw']);
    assert.equal(await lastKept(id), first, 'the retry is not a report again');
    assert.equal(await signalsHeard(id), 0);

    await signal('WORKING', 'Starting 50-maas-01-commissioning');
    await signal('WORKING', 'Starting 00-maas-01-lshw');
    assert.equal((await events(id)).length, 3, 'the same words after other words are a new report');
    assert.ok((await lastKept(id))! >= first, 'each report is kept');
    assert.equal(await signalsHeard(id), 0);

    // The environment's heartbeat (a bare WORKING every 120 s while a long script runs) is a
    // report each time: the same words outside the retry window are recorded again.
    await signal('WORKING');
    await region.services.db.query(
      `UPDATE events SET created = created - make_interval(secs => $2) WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`,
      [id, REPORT_RETRY_WINDOW_SECONDS + 1],
    );
    await signal('WORKING');
    assert.deepEqual((await events(id)).slice(3), ['Signal WORKING', 'Signal WORKING']);
    assert.equal(await signalsHeard(id), 0);

    await signal('OK');
    await signal('OK');
    await waitForStatus(region.services, id, S.READY);
    assert.deepEqual((await events(id)).slice(5), ['Signal OK']);
    assert.equal(await signalsHeard(id), 1, 'the final report is signalled, once');

    // Commissioned again at once: the new operation's first report reads like the last one's and
    // is a report, not a retry (re-commissioning with a silent environment would hang otherwise).
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-commission`, { key: admin })).status, 200);
    while (rack.calls.filter((c) => c === `on:${id}`).length < 2) await new Promise((r) => setTimeout(r, 50));
    await signal('OK');
    await waitForStatus(region.services, id, S.READY);
    assert.deepEqual((await events(id)).slice(5), ['Signal OK', 'Signal OK']);
  });

  it('a workflow that claimed the machine without quietProgress (from before leaner-history) is signalled every report', async () => {
    const { id, key } = await commissioning('repeats-old', '52:54:00:ee:00:03');
    const working = async (error: string) => {
      const r = await api.call('POST', '/MAAS/metadata/2012-03-01/', {
        key,
        form: { op: 'signal', status: 'WORKING', error },
      });
      assert.equal(r.status, 200, r.text);
    };
    // As an upgrade finds a machine claimed by an older workflow: no machine_progress row at all.
    await region.services.db.query(
      `DELETE FROM machine_progress WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`,
      [id],
    );
    await working('Starting 00-maas-01-cpuinfo');
    assert.equal(await signalsHeard(id), 1);
    // As an older workflow's claim after a quiet one leaves it: quiet false.
    await region.services.db.query(
      `INSERT INTO machine_progress (machine_id, quiet) SELECT id, false FROM machines WHERE system_id = $1`,
      [id],
    );
    await working('Starting 00-maas-01-lshw');
    assert.equal(await signalsHeard(id), 2);
    assert.equal(await lastKept(id), null);
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-abort`, { key: admin })).status, 200);
  });

  it('a report that comes before the recorded start happened makes it happen (signal-with-start), once', async () => {
    // The region's own actions over a client whose start fails as with Temporal down: the status
    // change commits with its start recorded (workflow_starts), and no workflow runs yet.
    const unreachable = async (): Promise<never> => {
      throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
        code: 14,
        details: '',
        metadata: {},
      });
    };
    const down = new MachineActions(
      region.services.db,
      new TemporalWorkflowGateway({ workflow: { start: unreachable } } as unknown as Client),
      region.services.racks,
      async () => ({ nodeTimeoutMs: 120_000 }),
      region.services.bootResources,
      region.services.config,
    );
    const m = await region.services.machines.create(machineInput({ hostname: 'repeats-3' }));
    rack.behaviour.set(m.systemId, 'silent');
    await down.commission(await createAdmin(region.services, 'repeats-admin'), m.systemId).then(
      () => assert.fail('started with Temporal unreachable'),
      () => undefined,
    );
    await waitForStatus(region.services, m.systemId, S.COMMISSIONING);
    assert.equal(await region.services.workflows.state(lifecycleWorkflowId(m.systemId)), 'not_found');
    // As the machine's earlier (quiet) workflow left it: a start still owed is made all the same.
    await region.services.db.query(
      `INSERT INTO machine_progress (machine_id, quiet) SELECT id, true FROM machines WHERE system_id = $1
       ON CONFLICT (machine_id) DO UPDATE SET quiet = true`,
      [m.systemId],
    );
    const t = (await api.call('GET', `/MAAS/api/2.0/machines/${m.systemId}/?op=get_token`, { key: admin }))
      .body as Json;
    const key = `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
    const r = await api.call('POST', '/MAAS/metadata/2012-03-01/', { key, form: { op: 'signal', status: 'WORKING' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(await region.services.workflows.state(lifecycleWorkflowId(m.systemId)), 'running');
    assert.equal(await signalsHeard(m.systemId), 1);
    assert.deepEqual(await events(m.systemId), ['Signal WORKING']);
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${m.systemId}/op-abort`, { key: admin })).status, 200);
    await waitForStatus(region.services, m.systemId, S.NEW);
  });

  it('status/<id>: a cloud-init event with the same timestamp again is recorded once', async () => {
    const { id, key } = await commissioning('repeats-2', '52:54:00:ee:00:02');
    const post = async (timestamp: number) => {
      const r = await api.call('POST', `/MAAS/metadata/status/${id}`, {
        key,
        body: JSON.stringify({
          origin: 'cloudinit',
          event_type: 'start',
          name: 'init-network',
          description: 'searching',
          timestamp,
        }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 200, r.text);
    };
    await post(1764900000.25);
    await post(1764900000.25);
    assert.deepEqual(await events(id), ['init-network: searching']);
    // A sign of life the quiet workflow reads at its deadline, not a signal.
    assert.ok((await lastKept(id)) !== null);
    assert.equal(await signalsHeard(id), 0);
    await post(1764900001.5);
    assert.equal((await events(id)).length, 2, 'another stamp is another event');
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-abort`, { key: admin })).status, 200);
  });
});
