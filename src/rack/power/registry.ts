// power_type → driver. An unknown power type is a configuration error, hence fatal.
import { PowerError, type PowerDriver, type RackLog } from './driver';
import { IpmiPowerDriver } from './ipmi';
import { ManualPowerDriver } from './manual';
import { RedfishPowerDriver } from './redfish';
import { WebhookPowerDriver } from './webhook';

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

  /** Closes every driver (logs out of BMC sessions); never throws. */
  async close(): Promise<void> {
    await Promise.all([...this.drivers.values()].map((d) => d.close?.().catch(() => undefined)));
  }

  get powerTypes(): string[] {
    return [...this.drivers.keys()];
  }
}

/** The rack's drivers: manual, the real BMC drivers (MAAS's retry schedule), and the given
 * extras (e.g. fake), which may also replace one of them (tests inject faster schedules). */
export function createPowerRegistry(log: RackLog, extra: PowerDriver[] = []): PowerDriverRegistry {
  return new PowerDriverRegistry([
    new ManualPowerDriver(log),
    new IpmiPowerDriver({ log }),
    new RedfishPowerDriver({ log }),
    new WebhookPowerDriver({ log }),
    ...extra,
  ]);
}
