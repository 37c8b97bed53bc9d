// A lifecycle workflow's power step is retried by Temporal, not inside the driver (issue 21): one
// BMC attempt per activity attempt, so history and `temporal workflow describe` show the attempt
// and the BMC's error; a fatal error is one attempt; `temporal activity pause` (the real CLI) stops
// the retries and the machine's status_message says so until `unpause`. Real Temporal, real
// PostgreSQL, the real webhook driver against the HTTP webhook peer, the rack's real activities.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRackActivities } from '../../src/activities/rack';
import type { BootConfig } from '../../src/contracts/rack-api';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId } from '../../src/contracts/workflows';
import { BootCache } from '../../src/rack/boot-cache';
import { createPowerRegistry } from '../../src/rack/power/registry';
import { WebhookPowerDriver } from '../../src/rack/power/webhook';
import { MachineEntity } from '../../src/region/db/entities';
import { PowerPauseWatcher } from '../../src/region/power-pause-watcher';
import { TemporalPausedPowerSteps } from '../../src/region/temporal/paused-power-steps';
import { findTemporalCli } from '../../src/runtime/temporal-dev-server';
import { startWebhookPeer, type WebhookPeer } from '../helpers/bmc/webhook-peer';
import { createAdmin, machineInput } from '../helpers/factories';
import { testInfra } from '../helpers/infra';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';

const run = promisify(execFile);

describe('power steps retried by Temporal (real Temporal, webhook BMC)', () => {
  let peer: WebhookPeer;
  let region: TestRegion;
  let admin: Awaited<ReturnType<typeof createAdmin>>;
  let watcher: PowerPauseWatcher;

  before(async () => {
    peer = await startWebhookPeer({ token: 's3cret' });
    const rackRegion = {
      powerConfig: async (id: string) => {
        const m = (await region.services.db.getRepository(MachineEntity).findOneBy({ systemId: id }))!;
        return { systemId: id, powerType: m.powerType, parameters: region.services.machines.powerParametersOf(m) };
      },
      bootConfig: async (id: string): Promise<BootConfig> => ({
        systemId: id,
        hostname: id,
        purpose: 'commissioning',
        macAddresses: [],
        metadataUrl: 'http://region.invalid/MAAS/metadata/',
        credentials: { consumerKey: 'a', tokenKey: 'b', tokenSecret: 'c' },
      }),
    };
    // In-driver retries would hide the failures from Temporal: a schedule of many quick waits
    // makes the test fail if the lifecycle path still used it (the peer would answer within it).
    const drivers = createPowerRegistry(
      () => undefined,
      [new WebhookPowerDriver({ backoffMs: Array.from({ length: 20 }, () => 10), timeoutMs: 5_000 })],
    );
    region = await startTestRegion({
      nodeTimeoutMs: 120_000,
      rack: createRackActivities({ region: rackRegion, drivers, bootCache: new BootCache(), heartbeatEveryMs: 1_000 }),
    });
    admin = await createAdmin(region.services);
    watcher = new PowerPauseWatcher(region.services.db, new TemporalPausedPowerSteps(region.client), () => undefined);
  });
  after(async () => {
    await region?.stop();
    await peer?.stop();
  });

  const newMachine = async (hostname: string, token = 's3cret') =>
    (
      await region.services.machines.create(
        machineInput({
          hostname,
          powerType: 'webhook',
          powerParameters: {
            power_on_uri: `${peer.url}/on`,
            power_off_uri: `${peer.url}/off`,
            power_query_uri: `${peer.url}/status`,
            power_token: token,
          },
        }),
      )
    ).systemId;

  const machineRow = async (systemId: string) =>
    (
      await region.services.db.query(`SELECT status, status_message FROM machines WHERE system_id = $1`, [systemId])
    )[0] as { status: number; status_message: string };

  /** The machine's commissioning scripts report OK (as the metadata API would take them). */
  const reportOk = async (systemId: string) => {
    const m = (await region.services.db.getRepository(MachineEntity).findOneBy({ systemId }))!;
    await region.services.metadata.signal(m, { status: 'WORKING', error: '', files: new Map() });
    await region.services.metadata.signal(m, { status: 'OK', error: '', files: new Map() });
  };

  /** Each attempt of the workflow's activities of `type`: attempt number and the failure before it. */
  const attemptsOf = async (systemId: string, type: string) => {
    const history = await region.client.workflow.getHandle(lifecycleWorkflowId(systemId)).fetchHistory();
    const scheduled = new Map<string, string>();
    const attempts: Array<{ attempt: number; lastFailure: string }> = [];
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
      const started = e.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === type)
        attempts.push({ attempt: started.attempt ?? 0, lastFailure: started.lastFailure?.message ?? '' });
    }
    return attempts;
  };

  /** The pending activity of `type`, as `temporal workflow describe` shows it. */
  const pending = async (systemId: string, type: string) => {
    const d = await region.client.workflow.getHandle(lifecycleWorkflowId(systemId)).describe();
    return d.raw.pendingActivities?.find((a) => a.activityType?.name === type);
  };

  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const temporal = (...args: string[]) =>
    run(findTemporalCli(process.env.TEMPORAL_CLI_PATH), [
      ...args,
      '--address',
      testInfra().temporalAddress,
      '--namespace',
      region.namespace,
    ]);

  it('a BMC failing twice then answering: the third activity attempt powers on, after the BMC errors', async () => {
    const systemId = await newMachine('retried-bmc');
    peer.failNext = 2;
    await region.services.actions.commission(admin, systemId);
    await until('powered on', async () => (peer.state === 'running' ? true : undefined));
    await reportOk(systemId);
    await waitForStatus(region.services, systemId, S.READY, 60_000);

    const attempts = await attemptsOf(systemId, 'powerOn');
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [3],
      'one started event: the one that completed, on its third attempt',
    );
    assert.match(attempts[0]!.lastFailure, /webhook .*HTTP 503: busy/);
  });

  it('a fatal BMC error (wrong token): one attempt, the machine fails with the reason', async () => {
    const systemId = await newMachine('wrong-token', 'wrong');
    await region.services.actions.commission(admin, systemId);
    const m = await waitForStatus(region.services, systemId, S.FAILED_COMMISSIONING, 60_000);
    assert.match(m.statusMessage, /authentication failed \(HTTP 401\)/);
    assert.deepEqual(
      (await attemptsOf(systemId, 'powerOn')).map((a) => a.attempt),
      [1],
    );
  });

  it('`temporal activity pause` stops the retries and says so in status_message; unpause resumes and clears it', async () => {
    const systemId = await newMachine('paused-bmc');
    peer.state = 'stopped';
    peer.failNext = 1_000_000;
    await region.services.actions.commission(admin, systemId);
    const failing = await until('a second attempt after a BMC error', async () => {
      const a = await pending(systemId, 'powerOn');
      return a?.activityId && (a.attempt ?? 0) >= 2 && a.lastFailure?.message
        ? { ...a, activityId: a.activityId }
        : undefined;
    });
    assert.match(failing.lastFailure!.message!, /HTTP 503: busy/, 'describe shows the BMC error');
    const policy = failing.activityOptions?.retryPolicy;
    assert.deepEqual(
      [Number(policy?.initialInterval?.seconds), policy?.backoffCoefficient, Number(policy?.maximumInterval?.seconds)],
      [4, 2, 32],
      "MAAS's 4/8/16/32 s schedule is the activity's retry policy",
    );

    await temporal(
      'activity',
      'pause',
      '--activity-id',
      failing.activityId,
      '--workflow-id',
      lifecycleWorkflowId(systemId),
    );
    const paused = await until('the paused message', async () => {
      await watcher.sweep();
      const row = await machineRow(systemId);
      return row.status_message.includes('paused') ? row : undefined;
    });
    assert.equal(paused.status, S.COMMISSIONING);
    assert.match(paused.status_message, /^Power on paused by an operator in Temporal; BMC: webhook .*HTTP 503: busy$/);
    assert.equal((await pending(systemId, 'powerOn'))?.paused, true);

    // An operator shortens the retry interval while it is paused (the BMC will be back soon).
    await temporal(
      'activity',
      'update-options',
      '--activity-id',
      failing.activityId,
      '--workflow-id',
      lifecycleWorkflowId(systemId),
      '--retry-initial-interval',
      '1s',
      '--retry-maximum-interval',
      '2s',
    );
    const retry = (await pending(systemId, 'powerOn'))?.activityOptions?.retryPolicy;
    assert.equal(Number(retry?.maximumInterval?.seconds), 2, 'update-options applied');
    assert.equal(retry?.backoffCoefficient, 2, "the rest of MAAS's schedule kept");

    peer.failNext = 0;
    await temporal(
      'activity',
      'unpause',
      '--activity-id',
      failing.activityId,
      '--workflow-id',
      lifecycleWorkflowId(systemId),
    );
    await until('powered on', async () => (peer.state === 'running' ? true : undefined));
    await until('the message cleared', async () => {
      await watcher.sweep();
      const row = await machineRow(systemId);
      return row.status_message === '' ? row : undefined;
    });
    assert.equal((await machineRow(systemId)).status, S.COMMISSIONING);
    await reportOk(systemId);
    await waitForStatus(region.services, systemId, S.READY, 60_000);
  });
});
