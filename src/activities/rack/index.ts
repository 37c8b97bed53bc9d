// The rack's activities (RackActivities): power and boot preparation for the machines this rack
// reaches. Power parameters, BMC secrets included, are fetched from the region when the activity
// runs, so they never enter workflow history. Every activity is safe to run twice.
import { asyncLocalStorage } from '@temporalio/activity';
import type { PowerActionResult, RackActivities } from '../../contracts/activities';
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import type { BootCache } from '../../rack/boot-cache';
import type { PowerDriver, RackLog } from '../../rack/power/driver';
import type { PowerDriverRegistry } from '../../rack/power/registry';
import type { RegionApi } from '../../rack/region-client';
import { toActivityFailure } from './failures';

export interface RackActivityDeps {
  region: Pick<RegionApi, 'powerConfig' | 'bootConfig'>;
  drivers: Pick<PowerDriverRegistry, 'get'>;
  bootCache: BootCache;
  log?: RackLog;
  /** How often a running activity heartbeats; cancellation reaches an activity only through them. */
  heartbeatEveryMs?: number;
}

type Step<T> = (signal: AbortSignal) => Promise<T>;

export function createRackActivities(deps: RackActivityDeps): RackActivities {
  const log = deps.log ?? (() => undefined);

  /** Runs `step` with the activity's cancellation signal and heartbeats (outside Temporal: neither). */
  async function activity<T>(what: string, step: Step<T>): Promise<T> {
    const ctx = asyncLocalStorage.getStore();
    const signal = ctx?.cancellationSignal ?? new AbortController().signal;
    ctx?.heartbeat(what);
    const beat = ctx ? setInterval(() => ctx.heartbeat(what), deps.heartbeatEveryMs ?? 5_000) : undefined;
    try {
      return await step(signal);
    } catch (err) {
      throw toActivityFailure(err, signal);
    } finally {
      clearInterval(beat);
    }
  }

  function power<T>(
    systemId: string,
    what: string,
    act: (driver: PowerDriver, cfg: PowerConfig, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return activity(`${what} ${systemId}`, async (signal) => {
      const cfg = await deps.region.powerConfig(systemId, signal);
      return act(deps.drivers.get(cfg.powerType), cfg, signal);
    });
  }

  /** A power action's result: the state, and whether an operator must do it (manual). */
  function action(
    systemId: string,
    what: string,
    act: (driver: PowerDriver, cfg: PowerConfig, signal: AbortSignal) => Promise<PowerState>,
  ): Promise<PowerActionResult> {
    return power(systemId, what, async (driver, cfg, signal) => {
      const state = await act(driver, cfg, signal);
      return driver.byHand ? { state, byHand: true } : { state };
    });
  }

  return {
    powerOn: ({ systemId }) =>
      action(systemId, 'power on', async (driver, cfg, signal) => {
        // MAAS: next boot from the network (once), then on, or cycle a machine that is already on
        // so it netboots now. Not for a machine whose netboot the region could not recognise.
        if (cfg.netboot !== false) await driver.setNextBootPxe?.(cfg, signal);
        const now = driver.queryable ? await driver.query(cfg, signal) : 'unknown';
        log(`power on ${systemId} (${cfg.powerType}, was ${now})`);
        return now === 'on' ? driver.cycle(cfg, signal) : driver.on(cfg, signal);
      }),

    powerOff: ({ systemId }) =>
      action(systemId, 'power off', (driver, cfg, signal) => {
        log(`power off ${systemId} (${cfg.powerType})`);
        return driver.off(cfg, signal);
      }),

    powerCycle: ({ systemId }) =>
      action(systemId, 'power cycle', async (driver, cfg, signal) => {
        if (cfg.netboot !== false) await driver.setNextBootPxe?.(cfg, signal);
        log(`power cycle ${systemId} (${cfg.powerType})`);
        return driver.cycle(cfg, signal);
      }),

    queryPower: ({ systemId }) =>
      power(systemId, 'query power', (driver, cfg, signal) =>
        driver.queryable ? driver.query(cfg, signal) : Promise.resolve('unknown'),
      ),

    prepareBoot: ({ systemId, purpose }) =>
      activity(`prepare boot ${systemId}`, async (signal) => {
        const config = await deps.region.bootConfig(systemId, signal);
        // The workflow set the purpose just before; a different one means someone moved the
        // machine on meanwhile. Serve what the region says, which is the truth, and say so.
        if (config.purpose !== purpose)
          log(`prepare boot ${systemId}: asked for ${purpose}, region says ${config.purpose}`);
        deps.bootCache.set(config);
      }),
  };
}
