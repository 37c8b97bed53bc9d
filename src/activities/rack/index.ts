// The rack's activities (RackActivities): power and boot preparation for the machines this rack
// reaches. Power parameters, BMC secrets included, are fetched from the region when the activity
// runs, so they never enter workflow history. Every activity is safe to run twice.
import { asyncLocalStorage, type Info } from '@temporalio/activity';
import type { PowerActionResult, PowerHeartbeat, PowerInput, RackActivities } from '../../contracts/activities';
import type { PowerConfig } from '../../contracts/rack-api';
import type { BootPurpose, PowerState } from '../../contracts/workflows';
import type { BootCache } from '../../rack/boot-cache';
import type { PowerDriver, RackLog } from '../../rack/power/driver';
import type { PowerDriverRegistry } from '../../rack/power/registry';
import { oneBmcAttempt } from '../../rack/power/retries';
import type { RegionApi } from '../../rack/region-client';
import { toActivityFailure } from './failures';
import { type ActivityKey, IssuedOnMemory } from './issued-on';

export interface RackActivityDeps {
  region: Pick<RegionApi, 'powerConfig' | 'bootConfig'>;
  drivers: Pick<PowerDriverRegistry, 'get'>;
  bootCache: BootCache;
  log?: RackLog;
  /** How often a running activity heartbeats; cancellation reaches an activity only through them. */
  heartbeatEveryMs?: number;
  /**
   * The rack's self-fence signal (rack/self-fence.ts): once aborted, running activities end with
   * its reason, a retryable failure, so that the partner rack that takes over runs the retry.
   */
  fenceSignal?: () => AbortSignal;
  /** The power-ons this rack has sent `on` for (default: a fresh memory, this process's). */
  issuedOn?: IssuedOnMemory;
}

type Step<T> = (signal: AbortSignal) => Promise<T>;

/** What a power action knows of its Temporal attempts (nothing when not retried by Temporal). */
interface PowerAttempt {
  /** An earlier attempt of this activity already sent the BMC `on` (heartbeat details, or this rack's memory). */
  onIssuedBefore: boolean;
  /** Records, in this attempt's heartbeat details and the rack's memory, that `on` is sent or about to be. */
  issuingOn(): void;
}

export function createRackActivities(deps: RackActivityDeps): RackActivities {
  const log = deps.log ?? (() => undefined);
  const issuedOn = deps.issuedOn ?? new IssuedOnMemory();

  /**
   * Runs `step` with the activity's cancellation signal and heartbeats (outside Temporal: neither).
   * A heartbeat is also how a pause (`temporal activity pause`) reaches a running attempt: the
   * SDK aborts the signal and reports the attempt as paused.
   */
  async function activity<T>(details: string | PowerHeartbeat, step: Step<T>): Promise<T> {
    const ctx = asyncLocalStorage.getStore();
    const cancelled = ctx?.cancellationSignal ?? new AbortController().signal;
    const fence = deps.fenceSignal?.();
    const signal = fence ? AbortSignal.any([cancelled, fence]) : cancelled;
    ctx?.heartbeat(details);
    const beat = ctx ? setInterval(() => ctx.heartbeat(details), deps.heartbeatEveryMs ?? 5_000) : undefined;
    try {
      if (fence?.aborted) throw fence.reason;
      return await step(signal);
    } catch (err) {
      // Fenced (and not cancelled by Temporal): the fence's retryable failure, whatever the
      // aborted driver call threw.
      if (fence?.aborted && !cancelled.aborted) throw fence.reason;
      throw toActivityFailure(err, signal);
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * A power activity. Retried by Temporal: one BMC attempt (oneBmcAttempt), and the heartbeat
   * details carry the BMC's error of the previous attempt (Temporal keeps them across attempts),
   * so an operator who pauses a failing BMC mid-attempt still sees why it failed.
   */
  function power<T>(
    { systemId, retriedByTemporal }: PowerInput,
    what: string,
    act: (driver: PowerDriver, cfg: PowerConfig, signal: AbortSignal, attempt: PowerAttempt) => Promise<T>,
    /**
     * A step before the BMC's, in the same attempt and heartbeats (a netboot's boot preparation):
     * its failure is the region's, not the BMC's, so it is not taken for the BMC's last error.
     */
    before?: (signal: AbortSignal) => Promise<void>,
  ): Promise<T> {
    const step = `${what} ${systemId}`;
    const run = async (signal: AbortSignal, attempt: PowerAttempt) => {
      const cfg = await deps.region.powerConfig(systemId, signal);
      return act(deps.drivers.get(cfg.powerType), cfg, signal, attempt);
    };
    if (!retriedByTemporal)
      return activity(step, async (signal) => {
        await before?.(signal);
        return run(signal, { onIssuedBefore: false, issuingOn: () => undefined });
      });
    const ctx = asyncLocalStorage.getStore();
    const previous = ctx?.info.heartbeatDetails as PowerHeartbeat | undefined;
    const key = activityKey(ctx?.info);
    // An earlier attempt's `on`: in its heartbeats (any rack's), or in this rack's memory (its
    // heartbeat lost while Temporal was away).
    const attemptNo = ctx?.info.attempt ?? 1;
    const onIssuedBefore = previous?.onIssued === true || (key !== undefined && issuedOn.issuedBefore(key, attemptNo));
    // One object for every heartbeat of this attempt: what issuingOn() adds goes out with them.
    const details: PowerHeartbeat = {
      step,
      lastBmcError: previous?.lastBmcError,
      onIssued: onIssuedBefore || undefined,
    };
    const attempt: PowerAttempt = {
      onIssuedBefore,
      issuingOn() {
        if (key) issuedOn.remember(key, attemptNo);
        details.onIssued = true;
        ctx?.heartbeat(details);
      },
    };
    return activity(details, async (signal) => {
      // Outside the BMC's attempt: heartbeats keep this attempt's details (onIssued included).
      await before?.(signal);
      try {
        return await oneBmcAttempt(() => run(signal, attempt));
      } catch (err) {
        // Kept for the next attempt's heartbeats (the failure itself is the attempt's lastFailure).
        if (!signal.aborted && err instanceof Error) {
          details.lastBmcError = err.message;
          ctx?.heartbeat(details);
        }
        throw err;
      }
    });
  }

  /** A power action's result: the state, and whether an operator must do it (manual). */
  function action(
    input: PowerInput,
    what: string,
    act: (driver: PowerDriver, cfg: PowerConfig, signal: AbortSignal, attempt: PowerAttempt) => Promise<PowerState>,
    before?: (signal: AbortSignal) => Promise<void>,
  ): Promise<PowerActionResult> {
    return power(
      input,
      what,
      async (driver, cfg, signal, attempt) => {
        const state = await act(driver, cfg, signal, attempt);
        return driver.byHand ? { state, byHand: true } : { state };
      },
      before,
    );
  }

  /** Fetch and cache the machine's boot configuration so its next PXE boot gets it. */
  const cacheBootConfig = async (systemId: string, purpose: BootPurpose, signal: AbortSignal): Promise<void> => {
    const config = await deps.region.bootConfig(systemId, signal);
    // The workflow set the purpose just before; a different one means someone moved the
    // machine on meanwhile. Serve what the region says, which is the truth, and say so.
    if (config.purpose !== purpose)
      log(`prepare boot ${systemId}: asked for ${purpose}, region says ${config.purpose}`);
    deps.bootCache.set(config);
  };

  /**
   * Set next boot to PXE (once) and power on; cycles a machine that is already on. `purpose`: a
   * netboot's boot preparation first, in the same attempt (each attempt prepares again: the
   * config is the region's latest).
   */
  const powerOn = (input: PowerInput, purpose?: BootPurpose): Promise<PowerActionResult> =>
    action(
      input,
      'power on',
      async (driver, cfg, signal, attempt) => {
        // A retry of a power-on whose earlier attempt already sent `on` (it then timed out or lost
        // the BMC while waiting for the state): a machine that is on now is on because of it and
        // is netbooting. Cycling it would reset it mid-boot; setting PXE again would leave a stale
        // one-time override for its next reboot.
        if (attempt.onIssuedBefore && driver.queryable && (await driver.query(cfg, signal)) === 'on') {
          log(`power on ${input.systemId} (${cfg.powerType}): on since an earlier attempt, left as it is`);
          return 'on';
        }
        // MAAS: next boot from the network (once), then on, or cycle a machine that is already on
        // so it netboots now. Not for a machine whose netboot the region could not recognise.
        if (cfg.netboot !== false) await driver.setNextBootPxe?.(cfg, signal);
        const now = driver.queryable ? await driver.query(cfg, signal) : 'unknown';
        log(`power on ${input.systemId} (${cfg.powerType}, was ${now})`);
        if (now === 'on') {
          // Recorded only once the cycle is done: a cycle that failed may have left the machine
          // running what it ran, and a retry must cycle it again rather than wait on it to netboot.
          const state = await driver.cycle(cfg, signal);
          attempt.issuingOn();
          return state;
        }
        // Recorded (heartbeat details outlive the attempt) before the BMC is told anything: an `on`
        // that failed leaves the machine off, which the retry powers on whatever the record says.
        attempt.issuingOn();
        return driver.on(cfg, signal);
      },
      purpose && ((signal) => cacheBootConfig(input.systemId, purpose, signal)),
    );

  return {
    powerOn: ({ prepareBoot: purpose, ...input }) => powerOn(input, purpose),

    powerOff: (input) =>
      action(input, 'power off', (driver, cfg, signal) => {
        log(`power off ${input.systemId} (${cfg.powerType})`);
        return driver.off(cfg, signal);
      }),

    powerCycle: (input) =>
      action(input, 'power cycle', async (driver, cfg, signal) => {
        if (cfg.netboot !== false) await driver.setNextBootPxe?.(cfg, signal);
        log(`power cycle ${input.systemId} (${cfg.powerType})`);
        return driver.cycle(cfg, signal);
      }),

    queryPower: (input) =>
      power(input, 'query power', (driver, cfg, signal) =>
        driver.queryable ? driver.query(cfg, signal) : Promise.resolve('unknown'),
      ),

    prepareBoot: ({ systemId, purpose }) =>
      activity(`prepare boot ${systemId}`, (signal) => cacheBootConfig(systemId, purpose, signal)),
  };
}

/** A Temporal activity's identity across its attempts (none outside Temporal). */
function activityKey(info: Partial<Info> | undefined): ActivityKey | undefined {
  const run = info?.workflowExecution;
  if (!run?.workflowId || !run.runId || !info?.activityId) return undefined;
  return { workflowId: run.workflowId, runId: run.runId, activityId: info.activityId };
}
