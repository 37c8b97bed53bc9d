// Online password guessing through the login form: after a few failures for one username, or from
// one address, further attempts are refused for a while without checking the password (no scrypt
// either, which is also what keeps a flood from tying up the thread pool). In memory, per region
// process: a restart forgets, which is acceptable for a brake, not a lockout.
// An attempt is counted (reserved) before its password is checked, in the same synchronous step
// as the check against the limit: the hash is asynchronous, so counting only after it would let
// any number of concurrent guesses through before the first failure is recorded.
export interface LoginThrottleOptions {
  /** Failures allowed per key within the window. */
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
  /** Bound on remembered keys (oldest forgotten first). */
  maxKeys?: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(o: LoginThrottleOptions = {}) {
    this.max = o.maxFailures ?? 10;
    this.windowMs = o.windowMs ?? 5 * 60_000;
    this.now = o.now ?? Date.now;
    this.maxKeys = o.maxKeys ?? 10_000;
  }

  /** Seconds until `keys` may try again; 0 when they may now. */
  retryAfter(keys: string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, now);
      if (recent.length >= this.max) wait = Math.max(wait, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
    }
    return wait;
  }

  /**
   * Counts an attempt against every key unless one of them is at its limit: 0 when the attempt
   * may go ahead (and is now counted), else the seconds to wait (and nothing is counted).
   */
  reserve(keys: string[]): number {
    const wait = this.retryAfter(keys);
    if (wait === 0) this.failed(keys);
    return wait;
  }

  /** A reserved attempt succeeded: it no longer counts against `keys`. */
  refund(keys: string[]): void {
    for (const key of keys) {
      const recent = this.failures.get(key);
      recent?.pop();
      if (recent?.length === 0) this.failures.delete(key);
    }
  }

  failed(keys: string[]): void {
    const now = this.now();
    for (const key of keys) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.delete(key);
      this.failures.set(key, recent);
    }
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }
}
