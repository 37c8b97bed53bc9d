// The boot configurations this rack has prepared (prepareBoot), by machine. A real rack renders
// its PXE/iPXE/GRUB files from them; the fake machines read them when the region is unreachable.
import type { BootConfig } from '../contracts/rack-api';

export class BootCache {
  private readonly configs = new Map<string, BootConfig>();

  set(config: BootConfig): void {
    this.configs.set(config.systemId, config);
  }

  get(systemId: string): BootConfig | undefined {
    return this.configs.get(systemId);
  }

  delete(systemId: string): void {
    this.configs.delete(systemId);
  }
}
