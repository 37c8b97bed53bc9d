// The power driver interface the rack owns: one implementation per MAAS power_type. Drivers know
// nothing of Temporal; they say whether a failure is worth retrying and the activity layer maps
// that onto Temporal failures (src/activities/rack/failures.ts).
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';

export interface PowerDriver {
  /** The MAAS power_type this driver serves, e.g. "ipmi". */
  readonly name: string;
  /** False when the rack cannot learn the power state (manual): query answers "unknown". */
  readonly queryable: boolean;
  /** True when an operator, not the rack, powers the machine (manual): the workflow tells them. */
  readonly byHand?: boolean;
  on(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState>;
  off(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState>;
  cycle(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState>;
  query(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState>;
  /** Make the next boot (only) a network boot, where the BMC supports it (IPMI, Redfish). */
  setNextBootPxe?(cfg: PowerConfig, signal: AbortSignal): Promise<void>;
  /** Let go of what the driver holds open at BMCs (Redfish sessions) when the rack stops. */
  close?(): Promise<void>;
}

/**
 * A power action failed. `retryable`: a BMC that does not answer may answer later; a wrong
 * password or a driver this rack does not have will not get better by trying again.
 */
export class PowerError extends Error {
  override name = 'PowerError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static fatal(message: string, cause?: unknown): PowerError {
    return new PowerError(message, false, { cause });
  }

  static retryable(message: string, cause?: unknown): PowerError {
    return new PowerError(message, true, { cause });
  }
}

export type RackLog = (line: string) => void;
