// The boot configurations this rack has prepared (prepareBoot), by machine. A real rack renders
// its per-MAC iPXE scripts from them while the region is unreachable; so do the fake machines.
import type { BootConfig } from '../contracts/rack-api';

export class BootCache {
  private readonly configs = new Map<string, BootConfig>();

  set(config: BootConfig): void {
    this.configs.set(config.systemId, config);
  }

  get(systemId: string): BootConfig | undefined {
    return this.configs.get(systemId);
  }

  /** The prepared config of the machine with this MAC (colon form, lower case). */
  byMac(mac: string): BootConfig | undefined {
    for (const c of this.configs.values()) if (c.macAddresses.some((m) => m.toLowerCase() === mac)) return c;
    return undefined;
  }

  delete(systemId: string): void {
    this.configs.delete(systemId);
  }
}
