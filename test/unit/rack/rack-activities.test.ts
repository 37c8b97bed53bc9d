// The activities are called directly (outside a Temporal worker); they must cope with no
// activity context, and turn driver and region errors into the right Temporal failures.
import { ApplicationFailure, asyncLocalStorage, type Context } from '@temporalio/activity';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POWER_FATAL_ERROR, type PowerHeartbeat } from '../../../src/contracts/activities';
import type { BootConfig, PowerConfig } from '../../../src/contracts/rack-api';
import type { PowerState } from '../../../src/contracts/workflows';
import { createRackActivities } from '../../../src/activities/rack';
import { POWER_RETRYABLE_ERROR, RACK_REGION_ERROR, toActivityFailure } from '../../../src/activities/rack/failures';
import { BootCache } from '../../../src/rack/boot-cache';
import { PowerError, type PowerDriver } from '../../../src/rack/power/driver';
import { createPowerRegistry } from '../../../src/rack/power/registry';
import { withRetries } from '../../../src/rack/power/retries';
import { RegionError } from '../../../src/rack/region-client';

class RecordingDriver implements PowerDriver {
  readonly name = 'recording';
  readonly queryable = true;
  calls: string[] = [];
  state: PowerState = 'off';
  failWith: PowerError | undefined;
  private act(name: string, to: PowerState): Promise<PowerState> {
    this.calls.push(name);
    if (this.failWith) return Promise.reject(this.failWith);
    this.state = to;
    return Promise.resolve(to);
  }
  on = () => this.act('on', 'on');
  off = () => this.act('off', 'off');
  cycle = () => this.act('cycle', 'on');
  query = () => Promise.resolve(this.state);
  setNextBootPxe = async () => void this.calls.push('pxe');
}

function setup(powerType = 'recording', regionError?: RegionError, netboot?: boolean) {
  const driver = new RecordingDriver();
  const seen: string[] = [];
  const region = {
    powerConfig: async (systemId: string): Promise<PowerConfig> => {
      seen.push(`power:${systemId}`);
      if (regionError) throw regionError;
      return {
        systemId,
        powerType,
        parameters: { power_pass: 'secret' },
        ...(netboot === undefined ? {} : { netboot }),
      };
    },
    bootConfig: async (systemId: string): Promise<BootConfig> => ({
      systemId,
      hostname: 'h',
      purpose: 'xinstall',
      macAddresses: [],
      metadataUrl: 'http://x/MAAS/metadata/',
      credentials: { consumerKey: 'a', tokenKey: 'b', tokenSecret: 'c' },
    }),
  };
  const bootCache = new BootCache();
  const activities = createRackActivities({
    region,
    drivers: createPowerRegistry(() => undefined, [driver]),
    bootCache,
  });
  return { driver, seen, activities, bootCache };
}

/**
 * Runs a Temporal-retried activity attempt in the minimal activity context the activities read:
 * the previous attempt's heartbeat details; this attempt's heartbeats are pushed to `beats`.
 */
function attempts(beats: PowerHeartbeat[]) {
  return <T>(heartbeatDetails: PowerHeartbeat | undefined, fn: () => Promise<T>) =>
    asyncLocalStorage.run(
      {
        info: { heartbeatDetails },
        cancellationSignal: new AbortController().signal,
        heartbeat: (d: PowerHeartbeat) => beats.push(structuredClone(d)),
      } as unknown as Context,
      fn,
    );
}

function assertFailure(err: unknown, type: string, nonRetryable: boolean): true {
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
  assert.equal(err.type, type);
  assert.equal(err.nonRetryable, nonRetryable);
  return true;
}

describe('rack activities', () => {
  it('power on: fetches the power config at run time, sets PXE, powers on', async () => {
    const { driver, seen, activities } = setup();
    assert.deepEqual(await activities.powerOn({ systemId: 'm1' }), { state: 'on' });
    assert.deepEqual(seen, ['power:m1']);
    assert.deepEqual(driver.calls, ['pxe', 'on']);
  });

  it('power on cycles a machine that is already on, so it netboots now', async () => {
    const { driver, activities } = setup();
    driver.state = 'on';
    assert.deepEqual(await activities.powerOn({ systemId: 'm1' }), { state: 'on' });
    assert.deepEqual(driver.calls, ['pxe', 'cycle']);
  });

  it('a machine the region says must not netboot (no known MAC) is powered on and cycled without setting PXE', async () => {
    const { driver, activities } = setup('recording', undefined, false);
    await activities.powerOn({ systemId: 'm1' });
    await activities.powerCycle({ systemId: 'm1' });
    assert.deepEqual(driver.calls, ['on', 'cycle']);
    const netboots = setup('recording', undefined, true);
    await netboots.activities.powerCycle({ systemId: 'm1' });
    assert.deepEqual(netboots.driver.calls, ['pxe', 'cycle']);
  });

  it('power off, query; manual answers unknown, and that an operator must act', async () => {
    const { activities } = setup();
    assert.deepEqual(await activities.powerOff({ systemId: 'm1' }), { state: 'off' });
    assert.equal(await activities.queryPower({ systemId: 'm1' }), 'off');
    const manual = setup('manual').activities;
    assert.equal(await manual.queryPower({ systemId: 'm1' }), 'unknown');
    for (const act of [manual.powerOn, manual.powerOff, manual.powerCycle])
      assert.deepEqual(await act({ systemId: 'm1' }), { state: 'unknown', byHand: true });
  });

  it('a fatal power error becomes a non-retryable PowerFatalError', async () => {
    const { driver, activities } = setup();
    driver.failWith = PowerError.fatal('BMC refused the credentials.');
    await assert.rejects(activities.powerOff({ systemId: 'm1' }), (err) => assertFailure(err, POWER_FATAL_ERROR, true));
    await assert.rejects(setup('ipmi').activities.powerOn({ systemId: 'm1' }), (err) =>
      assertFailure(err, POWER_FATAL_ERROR, true),
    );
  });

  it('a retryable power error stays retryable', async () => {
    const { driver, activities } = setup();
    driver.failWith = PowerError.retryable('BMC did not answer.');
    await assert.rejects(activities.powerCycle({ systemId: 'm1' }), (err) =>
      assertFailure(err, POWER_RETRYABLE_ERROR, false),
    );
  });

  it("retried by Temporal: one BMC attempt per activity call; the API's calls keep the driver's schedule", async () => {
    const { driver, activities } = setup();
    let tries = 0;
    const flaky = () =>
      withRetries(
        'recording on',
        [0, 0],
        new AbortController().signal,
        () => {},
        async () => {
          if (++tries < 3) throw PowerError.retryable('BMC did not answer.');
          return 'on' as const;
        },
      );
    driver.on = flaky;
    await assert.rejects(activities.powerOn({ systemId: 'm1', retriedByTemporal: true }), (err) =>
      assertFailure(err, POWER_RETRYABLE_ERROR, false),
    );
    assert.equal(tries, 1);
    tries = 0;
    assert.deepEqual(await activities.powerOn({ systemId: 'm1' }), { state: 'on' });
    assert.equal(tries, 3);
  });

  it('retried by Temporal: a power-on whose earlier attempt sent `on` does not cycle the machine it finds on', async () => {
    const { driver, activities } = setup();
    const beats: PowerHeartbeat[] = [];
    const attempt = attempts(beats);
    // Attempt 1 sends `on`; the BMC takes it, then the attempt fails (timed out waiting for the state).
    driver.on = async () => {
      driver.calls.push('on');
      driver.state = 'on';
      throw PowerError.retryable('still off, not on');
    };
    await assert.rejects(attempt(undefined, () => activities.powerOn({ systemId: 'm1', retriedByTemporal: true })));
    assert.deepEqual(driver.calls, ['pxe', 'on']);
    const last = beats.at(-1)!;
    assert.equal(last.onIssued, true);
    assert.match(last.lastBmcError ?? '', /still off/);
    // Attempt 2 (Temporal hands it the details of attempt 1) finds the machine on: left alone.
    driver.calls = [];
    assert.deepEqual(await attempt(last, () => activities.powerOn({ systemId: 'm1', retriedByTemporal: true })), {
      state: 'on',
    });
    assert.deepEqual(driver.calls, []);
    // Without an `on` sent by an earlier attempt, a machine that is on is still cycled (MAAS).
    assert.deepEqual(
      await attempt({ step: 'power on m1' }, () => activities.powerOn({ systemId: 'm1', retriedByTemporal: true })),
      { state: 'on' },
    );
    assert.deepEqual(driver.calls, ['pxe', 'cycle']);
  });

  it('retried by Temporal: an `on` whose heartbeats never reached Temporal (it was away) is remembered by the rack', async () => {
    const { driver, activities } = setup();
    const run = { workflowId: 'commission:m1', runId: 'r1' };
    const attemptOf = (activityId: string, attempt: number, fn: () => Promise<unknown>) =>
      asyncLocalStorage.run(
        {
          // Temporal hands the retry no details: attempt 1's heartbeats were lost with the server.
          info: { heartbeatDetails: undefined, workflowExecution: run, activityId, attempt },
          cancellationSignal: new AbortController().signal,
          heartbeat: () => undefined,
        } as unknown as Context,
        fn,
      );
    const powerOn = () => activities.powerOn({ systemId: 'm1', retriedByTemporal: true });
    // Attempt 1 powers the machine on and succeeds; its completion is lost too, so Temporal retries.
    assert.deepEqual(await attemptOf('7', 1, powerOn), { state: 'on' });
    assert.deepEqual(driver.calls, ['pxe', 'on']);
    driver.calls = [];
    assert.deepEqual(await attemptOf('7', 2, powerOn), { state: 'on' });
    assert.deepEqual(driver.calls, [], 'the retry leaves the netbooting machine alone');
    // An operator's `temporal activity reset` starts the attempts again at 1: a fresh power-on (MAAS's cycle).
    assert.deepEqual(await attemptOf('7', 1, powerOn), { state: 'on' });
    assert.deepEqual(driver.calls, ['pxe', 'cycle']);
    driver.calls = [];
    // Another activity (the next operation's power-on) still cycles a machine it finds on.
    assert.deepEqual(await attemptOf('12', 1, powerOn), { state: 'on' });
    assert.deepEqual(driver.calls, ['pxe', 'cycle']);
  });

  it('retried by Temporal: a cycle that failed is not taken for a sent `on` (the machine is cycled again)', async () => {
    const { driver, activities } = setup();
    const beats: PowerHeartbeat[] = [];
    const attempt = attempts(beats);
    driver.state = 'on';
    // Attempt 1 finds the machine on and cycles it; the BMC refuses, and the machine runs on.
    driver.cycle = async () => {
      driver.calls.push('cycle');
      throw PowerError.retryable('BMC busy');
    };
    await assert.rejects(attempt(undefined, () => activities.powerOn({ systemId: 'm1', retriedByTemporal: true })));
    assert.notEqual(beats.at(-1)?.onIssued, true);
    // Attempt 2 cycles it again rather than leaving it to a netboot that never began.
    driver.cycle = async () => {
      driver.calls.push('cycle');
      return 'on';
    };
    driver.calls = [];
    assert.deepEqual(
      await attempt(beats.at(-1), () => activities.powerOn({ systemId: 'm1', retriedByTemporal: true })),
      {
        state: 'on',
      },
    );
    assert.deepEqual(driver.calls, ['pxe', 'cycle']);
    assert.equal(beats.at(-1)?.onIssued, true, 'a cycle done is recorded');
  });

  it("retried by Temporal: a netboot's power-on whose boot preparation failed keeps the earlier attempt's `on` (no cycle)", async () => {
    const driver = new RecordingDriver();
    let regionDown = false;
    const bootCache = new BootCache();
    const activities = createRackActivities({
      region: {
        powerConfig: async (systemId: string): Promise<PowerConfig> => ({
          systemId,
          powerType: 'recording',
          parameters: {},
        }),
        bootConfig: async (systemId: string): Promise<BootConfig> => {
          if (regionDown) throw new RegionError('down', true, 503);
          return {
            systemId,
            hostname: 'h',
            purpose: 'commissioning',
            macAddresses: [],
            metadataUrl: 'http://x/MAAS/metadata/',
          };
        },
      },
      drivers: createPowerRegistry(() => undefined, [driver]),
      bootCache,
    });
    const beats: PowerHeartbeat[] = [];
    const attempt = attempts(beats);
    const netboot = { systemId: 'm1', retriedByTemporal: true, prepareBoot: 'commissioning' as const };
    // Attempt 1 prepares the boot and sends `on`, then fails waiting for the state.
    driver.on = async () => {
      driver.calls.push('on');
      driver.state = 'on';
      throw PowerError.retryable('still off, not on');
    };
    await assert.rejects(attempt(undefined, () => activities.powerOn(netboot)));
    assert.equal(bootCache.get('m1')?.purpose, 'commissioning');
    // Attempt 2 cannot reach the region to prepare the boot: its heartbeats still say `on` was sent.
    regionDown = true;
    await assert.rejects(attempt(beats.at(-1), () => activities.powerOn(netboot)));
    const afterFailedPrepare = beats.at(-1)!;
    assert.equal(afterFailedPrepare.onIssued, true);
    assert.match(afterFailedPrepare.lastBmcError ?? '', /still off/, "the region's failure is not the BMC's");
    // Attempt 3 finds the machine on: left alone, not cycled mid-boot.
    regionDown = false;
    driver.calls = [];
    assert.deepEqual(await attempt(afterFailedPrepare, () => activities.powerOn(netboot)), { state: 'on' });
    assert.deepEqual(driver.calls, []);
  });

  it('region errors: 404 is fatal, 5xx and unreachable are retried', async () => {
    await assert.rejects(
      setup('recording', new RegionError('gone', false, 404)).activities.powerOn({ systemId: 'm1' }),
      (err) => assertFailure(err, RACK_REGION_ERROR, true),
    );
    await assert.rejects(
      setup('recording', new RegionError('down', true, 503)).activities.powerOn({ systemId: 'm1' }),
      (err) => assertFailure(err, RACK_REGION_ERROR, false),
    );
    await assert.rejects(
      setup('recording', new RegionError('down', true)).activities.queryPower({ systemId: 'm1' }),
      (err) => assertFailure(err, RACK_REGION_ERROR, false),
    );
  });

  it('prepareBoot caches the boot config; running it twice is harmless', async () => {
    const { activities, bootCache } = setup();
    await activities.prepareBoot({ systemId: 'm1', purpose: 'xinstall' });
    await activities.prepareBoot({ systemId: 'm1', purpose: 'xinstall' });
    assert.equal(bootCache.get('m1')?.purpose, 'xinstall');
  });

  it('powerOn with prepareBoot caches the boot config before the BMC is told anything (one activity for a netboot)', async () => {
    const { activities, bootCache, driver } = setup();
    let cachedAtFirstBmcCall: string | undefined;
    const setPxe = driver.setNextBootPxe;
    driver.setNextBootPxe = async () => {
      cachedAtFirstBmcCall = bootCache.get('m1')?.purpose;
      await setPxe();
    };
    assert.deepEqual(await activities.powerOn({ systemId: 'm1', prepareBoot: 'xinstall' }), { state: 'on' });
    assert.equal(cachedAtFirstBmcCall, 'xinstall');
    assert.deepEqual(driver.calls, ['pxe', 'on']);
    // Without it, powerOn leaves the boot cache alone.
    const plain = setup();
    await plain.activities.powerOn({ systemId: 'm2' });
    assert.equal(plain.bootCache.get('m2'), undefined);
  });

  it('leaves other errors and cancellations alone', () => {
    const other = new Error('boom');
    assert.equal(toActivityFailure(other), other);
    const cancelled = new AbortController();
    cancelled.abort();
    const fatal = PowerError.fatal('x');
    assert.equal(toActivityFailure(fatal, cancelled.signal), fatal);
  });
});
