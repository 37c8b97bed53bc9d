// Retries inside a driver, as MAAS does them: a BMC that did not answer gets another try after
// 4, 8, 16 and 32 s (MAAS's PowerDriver.wait_time); a fatal error (wrong password, bad setting)
// ends at once. The waiting itself is the rack's one backoff module (../backoff.ts).
// A caller whose retries Temporal owns (a lifecycle workflow's power step: the activity's retry
// policy is MAAS's schedule, visible and pausable there) runs the driver in oneBmcAttempt(): the
// schedule is then empty, so a driver call is one try at the BMC. A scope rather than a parameter
// of every driver method: drivers stay unaware of who retries them.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PowerState } from '../../contracts/workflows';
import { retryOnSchedule, sleep } from '../backoff';
import { PowerError, type RackLog } from './driver';

/** MAAS's schedule: the waits between attempts, so 5 attempts in ~60 s. */
export const MAAS_BACKOFF_MS: readonly number[] = [4_000, 8_000, 16_000, 32_000];

const oneAttemptScope = new AsyncLocalStorage<true>();

/** Runs `fn` with every withRetries inside it making a single attempt (its caller retries). */
export function oneBmcAttempt<T>(fn: () => Promise<T>): Promise<T> {
  return oneAttemptScope.run(true, fn);
}

/**
 * Runs `attempt` until it succeeds, fails fatally, or the schedule is used up. The last retryable
 * error is rethrown with how often it was tried, so the machine's status_message says so. Inside
 * oneBmcAttempt(): one attempt, its error rethrown as it is.
 */
export function withRetries<T>(
  what: string,
  schedule: readonly number[],
  signal: AbortSignal,
  log: RackLog,
  attempt: () => Promise<T>,
): Promise<T> {
  if (oneAttemptScope.getStore()) return attempt();
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
 * asked for: many BMCs answer "accepted" first and change state a few seconds later. This wait
 * stays inside one attempt even under oneBmcAttempt(): it is not a retry of a failure but the
 * action's confirmation (at most ~60 s of polling). Each poll is one try at the BMC, and a poll
 * that fails retryably counts as "not there yet", not as a failed action: under oneBmcAttempt the
 * action would otherwise end and Temporal's retry would find the machine on and cycle it, resetting
 * a machine that had just powered on (issue 21). A fatal error still ends the wait at once.
 */
export async function awaitState(
  what: string,
  desired: PowerState,
  schedule: readonly number[],
  signal: AbortSignal,
  query: () => Promise<PowerState>,
): Promise<PowerState> {
  let failed: PowerError | undefined;
  const poll = async (): Promise<PowerState | undefined> => {
    try {
      const state = await oneBmcAttempt(query);
      failed = undefined;
      return state;
    } catch (err) {
      if (signal.aborted || !(err instanceof PowerError) || !err.retryable) throw err;
      failed = err;
      return undefined;
    }
  };
  let state = await poll();
  for (const wait of schedule) {
    if (state === desired) return state;
    await sleep(wait, signal);
    state = await poll();
  }
  if (state === desired) return state;
  if (failed)
    throw PowerError.retryable(
      `${what}: the BMC accepted the request but its state could not be read: ${failed.message}`,
      failed,
    );
  throw PowerError.retryable(`${what}: the BMC accepted the request but is still ${state}, not ${desired}.`);
}
