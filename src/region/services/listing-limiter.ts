// How many machine listings one caller may run at once. A listing holds a connection of the
// listing pool while it reads; without a per-caller cap one user's parallel requests could take
// every listing connection and make everyone else's listings wait.
import { TooManyRequestsError } from '../errors';

export class ListingLimiter {
  private readonly running = new Map<string, number>();

  constructor(
    readonly perCaller: number,
    /** What Retry-After says: about how long a heavy listing takes to finish. */
    private readonly retryAfterSeconds = 2,
  ) {}

  /** Counts one more listing for `caller` (or refuses it with 429); call the returned function when it ends. */
  enter(caller: string): () => void {
    const now = this.running.get(caller) ?? 0;
    if (now >= this.perCaller)
      throw new TooManyRequestsError(
        `Too many machine listings at once: at most ${this.perCaller} per user may run; retry when one has finished.`,
        this.retryAfterSeconds,
      );
    this.running.set(caller, now + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const n = (this.running.get(caller) ?? 1) - 1;
      if (n <= 0) this.running.delete(caller);
      else this.running.set(caller, n);
    };
  }
}
