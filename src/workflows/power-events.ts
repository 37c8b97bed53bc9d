// MAAS's event types and wording for power actions, shared by the API's power workflow and the
// lifecycle workflows' power steps.
import { ActivityFailure } from '@temporalio/workflow';
import type { PowerActionResult } from '../contracts/activities';
import type { PowerState } from '../contracts/workflows';

export type PowerAction = 'on' | 'off' | 'cycle' | 'query';

/** Recorded before the action. */
export const POWER_STARTING = {
  on: 'Powering on',
  off: 'Powering off',
  cycle: 'Power cycling',
  query: 'Querying power state',
} as const;
/** Recorded after it, with the state the BMC ended in. */
export const POWER_DONE = {
  on: 'Node powered on',
  off: 'Node powered off',
  cycle: 'Node powered on',
  query: 'Queried power state',
} as const;
/** A failed action (ERROR, with the BMC's reason). */
export const POWER_FAILED = {
  on: 'Failed to power on node',
  off: 'Failed to power off node',
  cycle: 'Failed to power cycle node',
  query: "Failed to query node's BMC",
} as const;

/** A lifecycle power step's own announcement, after the runbook's ("Powering on to commission."). */
export function startingWords(action: 'on' | 'off', hostname: string): string {
  return action === 'on' ? `Powering on ${hostname}, next boot from the network.` : `Powering off ${hostname}.`;
}

/** What the operator of a manual machine must do. */
export function byHandMessage(action: Exclude<PowerAction, 'query'>, hostname: string, netboot: boolean): string {
  const verb = { on: 'Power on', off: 'Power off', cycle: 'Power cycle' }[action];
  const then = action === 'off' ? '' : netboot ? '; waiting for it to boot from the network' : '';
  return `${verb} ${hostname} by hand (manual power type)${then}.`;
}

/** Racks before power results were objects answered the bare state; histories may hold either. */
export function asPowerResult(got: PowerActionResult | PowerState): PowerActionResult {
  return typeof got === 'string' ? { state: got } : got;
}

/** The BMC's own words: the rack activity's failure (its cause), not Temporal's wrapper. */
export function bmcReason(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause?.message) return err.cause.message;
  return err instanceof Error && err.message ? err.message : 'Unknown error.';
}
