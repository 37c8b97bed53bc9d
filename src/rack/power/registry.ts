// power_type → driver. An unknown power type is a configuration error, hence fatal.
import { PowerError, type PowerDriver, type RackLog } from './driver';
import { ManualPowerDriver } from './manual';
import { UnavailablePowerDriver } from './unavailable';

export class PowerDriverRegistry {
  private readonly drivers = new Map<string, PowerDriver>();

  constructor(drivers: Iterable<PowerDriver>) {
    for (const d of drivers) this.drivers.set(d.name, d);
  }

  get(powerType: string): PowerDriver {
    const driver = this.drivers.get(powerType);
    if (!driver) {
      const known = [...this.drivers.keys()].sort().join(', ');
      throw PowerError.fatal(`Unknown power type '${powerType || '(none)'}'; this rack drives: ${known}.`);
    }
    return driver;
  }

  get powerTypes(): string[] {
    return [...this.drivers.keys()];
  }
}

/** The drivers of this (fake) rack: manual, the given extras (e.g. fake), and placeholders. */
export function createPowerRegistry(log: RackLog, extra: PowerDriver[] = []): PowerDriverRegistry {
  return new PowerDriverRegistry([
    new ManualPowerDriver(log),
    new UnavailablePowerDriver('ipmi'),
    new UnavailablePowerDriver('redfish'),
    new UnavailablePowerDriver('webhook'),
    ...extra,
  ]);
}
