// Retries inside a driver, as MAAS does them: a BMC that did not answer gets another try after
// 4, 8, 16 and 32 s (MAAS's PowerDriver.wait_time); a fatal error (wrong password, bad setting)
// ends at once. Temporal's activity retries sit on top of this for longer outages.
import type { PowerState } from '../../contracts/workflows';
import { PowerError, type RackLog } from './driver';

/** MAAS's schedule: the waits between attempts, so 5 attempts in ~60 s. */
export const MAAS_BACKOFF_MS: readonly number[] = [4_000, 8_000, 16_000, 32_000];

/** Waits `ms`, or rejects with the signal's reason when the activity is cancelled meanwhile. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails fatally, or the schedule is used up. The last retryable
 * error is rethrown with how often it was tried, so the machine's status_message says so.
 */
export async function withRetries<T>(
  what: string,
  schedule: readonly number[],
  signal: AbortSignal,
  log: RackLog,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = schedule.length + 1;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (signal.aborted || !(err instanceof PowerError) || !err.retryable) throw err;
      const wait = schedule[i];
      if (wait === undefined)
        throw PowerError.retryable(`${err.message} (${what}: gave up after ${attempts} attempts)`, err);
      log(`${what}: attempt ${i + 1}/${attempts} failed, retrying in ${wait} ms: ${err.message}`);
      await sleep(wait, signal);
    }
  }
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
