// Retries inside a driver, as MAAS does them: a BMC that did not answer gets another try after
// 4, 8, 16 and 32 s (MAAS's PowerDriver.wait_time); a fatal error (wrong password, bad setting)
// ends at once. Temporal's activity retries sit on top of this for longer outages. The waiting
// itself is the rack's one backoff module (../backoff.ts).
import type { PowerState } from '../../contracts/workflows';
import { retryOnSchedule, sleep } from '../backoff';
import { PowerError, type RackLog } from './driver';

/** MAAS's schedule: the waits between attempts, so 5 attempts in ~60 s. */
export const MAAS_BACKOFF_MS: readonly number[] = [4_000, 8_000, 16_000, 32_000];

/**
 * Runs `attempt` until it succeeds, fails fatally, or the schedule is used up. The last retryable
 * error is rethrown with how often it was tried, so the machine's status_message says so.
 */
export function withRetries<T>(
  what: string,
  schedule: readonly number[],
  signal: AbortSignal,
  log: RackLog,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = schedule.length + 1;
  return retryOnSchedule(schedule, attempt, {
    signal,
    isRetryable: (err) => err instanceof PowerError && err.retryable,
    onRetry: (err, n, wait) =>
      log(`${what}: attempt ${n}/${attempts} failed, retrying in ${wait} ms: ${(err as Error).message}`),
    onExhausted: (err) =>
      PowerError.retryable(`${(err as Error).message} (${what}: gave up after ${attempts} attempts)`, err as Error),
  });
}

/**
 * After an accepted power action, waits (on the same schedule) until the BMC reports the state
 * asked for: many BMCs answer "accepted" first and change state a few seconds later.
 */
export async function awaitState(
  what: string,
  desired: PowerState,
  schedule: readonly number[],
  signal: AbortSignal,
  query: () => Promise<PowerState>,
): Promise<PowerState> {
  let state = await query();
  for (const wait of schedule) {
    if (state === desired) return state;
    await sleep(wait, signal);
    state = await query();
  }
  if (state === desired) return state;
  throw PowerError.retryable(`${what}: the BMC accepted the request but is still ${state}, not ${desired}.`);
}
