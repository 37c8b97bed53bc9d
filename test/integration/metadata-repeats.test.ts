// A machine's report sent twice. The metadata protocol has no request id, so a machine retries a
// POST whose reply it lost (the region died between commit and reply: ha-regions does this with
// kill -9) and the region sees the same report again. It must record one event and send the
// workflow one signal; a new report with the same words (a later phase) is recorded again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId } from '../../src/contracts/workflows';
import { REPORT_RETRY_WINDOW_SECONDS } from '../../src/region/services/report-repeats';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('metadata: a retried report is recorded and signalled once', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 120_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
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
  const signalsHeard = async (id: string) => {
    const history = await region.client.workflow.getHandle(lifecycleWorkflowId(id)).fetchHistory();
    const n = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    if (n === 0) console.log('DEBUG history', JSON.stringify(history.events!.map((e) => e.eventType)));
    return n;
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
    await signal('WORKING', 'Starting 00-maas-01-lshw');
    await signal('WORKING', 'Starting 00-maas-01-lshw');
    assert.deepEqual(await events(id), ['Signal WORKING: Starting 00-maas-01-lshw']);
    assert.equal(await signalsHeard(id), 1);

    await signal('WORKING', 'Starting 50-maas-01-commissioning');
    await signal('WORKING', 'Starting 00-maas-01-lshw');
    assert.equal((await events(id)).length, 3, 'the same words after other words are a new report');
    assert.equal(await signalsHeard(id), 3);

    // The environment's heartbeat (a bare WORKING every 120 s while a long script runs) is a
    // report each time: the same words outside the retry window are recorded again.
    await signal('WORKING');
    await region.services.db.query(
      `UPDATE events SET created = created - make_interval(secs => $2) WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`,
      [id, REPORT_RETRY_WINDOW_SECONDS + 1],
    );
    await signal('WORKING');
    assert.deepEqual((await events(id)).slice(3), ['Signal WORKING', 'Signal WORKING']);
    assert.equal(await signalsHeard(id), 5);

    await signal('OK');
    await signal('OK');
    await waitForStatus(region.services, id, S.READY);
    assert.deepEqual((await events(id)).slice(5), ['Signal OK']);
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
    assert.equal(await signalsHeard(id), 1);
    await post(1764900001.5);
    assert.equal((await events(id)).length, 2, 'another stamp is another event');
    assert.equal((await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-abort`, { key: admin })).status, 200);
  });
});
