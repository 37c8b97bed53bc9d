// power_type "manual": an operator presses the button. Nothing to do here but log it; the rack
// activity answers `byHand`, so the workflow tells the operator (an event and status_message)
// and then waits for the machine's own report, as MAAS does.
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import type { PowerDriver, RackLog } from './driver';

export class ManualPowerDriver implements PowerDriver {
  readonly name = 'manual';
  readonly queryable = false;
  readonly byHand = true;

  constructor(private readonly log: RackLog) {}

  async on(cfg: PowerConfig): Promise<PowerState> {
    this.log(`manual power: ${cfg.systemId} must be powered on by hand (network boot)`);
    return 'unknown';
  }

  async off(cfg: PowerConfig): Promise<PowerState> {
    this.log(`manual power: ${cfg.systemId} must be powered off by hand`);
    return 'unknown';
  }

  async cycle(cfg: PowerConfig): Promise<PowerState> {
    this.log(`manual power: ${cfg.systemId} must be power cycled by hand (network boot)`);
    return 'unknown';
  }

  async query(): Promise<PowerState> {
    return 'unknown';
  }
}
