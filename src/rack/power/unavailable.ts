// Power types MAAS users expect (ipmi, redfish, webhook) whose drivers have not landed on this
// rack yet. Every action fails fatally, so a workflow fails at once with a message that says
// why, instead of retrying for minutes.
import type { PowerState } from '../../contracts/workflows';
import { PowerError, type PowerDriver } from './driver';

export class UnavailablePowerDriver implements PowerDriver {
  readonly queryable = true;

  constructor(readonly name: string) {}

  private fail(): Promise<never> {
    return Promise.reject(PowerError.fatal(`The ${this.name} power driver is not available on this rack yet (metalflow fake rack).`));
  }

  on(): Promise<PowerState> {
    return this.fail();
  }
  off(): Promise<PowerState> {
    return this.fail();
  }
  cycle(): Promise<PowerState> {
    return this.fail();
  }
  query(): Promise<PowerState> {
    return this.fail();
  }
  setNextBootPxe(): Promise<void> {
    return this.fail();
  }
}
