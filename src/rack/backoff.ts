// The rack's one backoff module: one abortable sleep and the two ways rack code retries.
// - withRetry: exponential backoff with jitter, bounded by total time. The region may restart under
//   a rack (a crash test kills it with kill -9), so rack-side HTTP waits for it, but never forever.
// - retryOnSchedule: a fixed list of waits between attempts, as MAAS's power drivers retry a BMC
//   (power/retries.ts holds MAAS's schedule).

export interface RetryOptions {
  /** Give up after this long in total (the last error is thrown). */
  maxElapsedMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Only errors that say retrying helps are retried; the rest are thrown at once. */
  isRetryable: (err: unknown) => boolean;
  signal?: AbortSignal;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted.', 'AbortError');
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const started = Date.now();
  let delay = o.initialDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw abortReason(o.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (o.signal?.aborted || !o.isRetryable(err)) throw err;
      const left = o.maxElapsedMs - (Date.now() - started);
      if (left <= 0) throw err;
      // Jitter keeps a crowd of fake machines from hammering a restarting region in lockstep.
      const wait = Math.min(delay * (0.75 + Math.random() * 0.5), left);
      o.onRetry?.(err, attempt, Math.round(wait));
      await sleep(wait, o.signal);
      delay = Math.min(delay * 2, o.maxDelayMs ?? 10_000);
    }
  }
}

export interface ScheduleOptions {
  /** Only errors that say retrying helps are retried; the rest are thrown at once. */
  isRetryable: (err: unknown) => boolean;
  signal?: AbortSignal;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** The error to throw once the schedule is used up (default: the last error). */
  onExhausted?: (err: unknown, attempts: number) => unknown;
}

/**
 * Runs `fn` until it succeeds, fails with an error not worth retrying, or the schedule (the waits
 * between attempts, so `schedule.length + 1` attempts) is used up.
 */
export async function retryOnSchedule<T>(
  schedule: readonly number[],
  fn: (attempt: number) => Promise<T>,
  o: ScheduleOptions,
): Promise<T> {
  const attempts = schedule.length + 1;
  for (let i = 0; ; i++) {
    try {
      return await fn(i + 1);
    } catch (err) {
      if (o.signal?.aborted || !o.isRetryable(err)) throw err;
      const wait = schedule[i];
      if (wait === undefined) throw o.onExhausted ? o.onExhausted(err, attempts) : err;
      o.onRetry?.(err, i + 1, wait);
      await sleep(wait, o.signal);
    }
  }
}
