// Power actions counted by power type, action and outcome: every driver of a registry wrapped,
// so the activities, the poller and any new driver are counted without knowing of metrics.
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerDriver } from './driver';
import { PowerDriverRegistry } from './registry';

export type PowerAction = 'on' | 'off' | 'cycle' | 'query' | 'set_boot_pxe';
export type PowerOutcome = 'success' | 'failure' | 'cancelled';
export type CountPowerAction = (driver: string, action: PowerAction, outcome: PowerOutcome) => void;

export function meteredRegistry(registry: PowerDriverRegistry, count: CountPowerAction): PowerDriverRegistry {
  return new MeteredRegistry(
    registry.powerTypes.map((t) => metered(registry.get(t), count)),
    registry,
  );
}

/** Closing closes the original drivers (the wrappers hold nothing). */
class MeteredRegistry extends PowerDriverRegistry {
  constructor(
    drivers: PowerDriver[],
    private readonly inner: PowerDriverRegistry,
  ) {
    super(drivers);
  }

  override close(): Promise<void> {
    return this.inner.close();
  }
}

export function metered(driver: PowerDriver, count: CountPowerAction): PowerDriver {
  const run = async <T>(action: PowerAction, signal: AbortSignal, act: () => Promise<T>): Promise<T> => {
    try {
      const result = await act();
      count(driver.name, action, 'success');
      return result;
    } catch (err) {
      count(driver.name, action, signal.aborted ? 'cancelled' : 'failure');
      throw err;
    }
  };
  const setNextBootPxe = driver.setNextBootPxe?.bind(driver);
  return {
    name: driver.name,
    queryable: driver.queryable,
    ...(driver.byHand !== undefined ? { byHand: driver.byHand } : {}),
    on: (cfg: PowerConfig, signal) => run('on', signal, () => driver.on(cfg, signal)),
    off: (cfg: PowerConfig, signal) => run('off', signal, () => driver.off(cfg, signal)),
    cycle: (cfg: PowerConfig, signal) => run('cycle', signal, () => driver.cycle(cfg, signal)),
    query: (cfg: PowerConfig, signal) => run('query', signal, () => driver.query(cfg, signal)),
    ...(setNextBootPxe
      ? {
          setNextBootPxe: (cfg: PowerConfig, signal: AbortSignal) =>
            run('set_boot_pxe', signal, () => setNextBootPxe(cfg, signal)),
        }
      : {}),
  };
}
