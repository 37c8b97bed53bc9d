// How many machine listings one caller may run at once. A 10,000-machine listing is about a second
// of the API process's CPU and holds a listing-pool connection while it reads; a caller's parallel
// listings would take those from everyone else (issue 15: whoami behind 20 listings). A caller's
// listings past the cap wait their turn in a short queue (so a client that lists in parallel, such
// as Juju, is slowed, not refused); past the queue, or after waiting too long, they get a 429.
import { QueryAbandonedError, TooManyRequestsError } from '../errors';

export interface ListingQueue {
  /** Listings of one caller that may wait for a slot; more get a 429 at once. */
  length: number;
  /** How long one may wait for its slot before it gets a 429. */
  maxWaitMs: number;
}

export const DEFAULT_LISTING_QUEUE: ListingQueue = { length: 16, maxWaitMs: 30_000 };

export class ListingLimiter {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(
    readonly perCaller: number,
    private readonly queue: ListingQueue = DEFAULT_LISTING_QUEUE,
    /** What Retry-After says: about how long a heavy listing takes to finish. */
    private readonly retryAfterSeconds = 2,
  ) {}

  /**
   * Takes one of `caller`'s slots, waiting for one if they are all taken (or refuses with 429);
   * call the returned function when the listing ends. `signal` gives up the wait.
   */
  async enter(caller: string, signal?: AbortSignal): Promise<() => void> {
    const now = this.running.get(caller) ?? 0;
    if (now < this.perCaller) this.running.set(caller, now + 1);
    else await this.wait(caller, signal);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.leave(caller);
    };
  }

  /** A leaving listing hands its slot to the next waiter, if any (the count stays as it is). */
  private leave(caller: string): void {
    const next = this.waiting.get(caller)?.shift();
    if (next) return next();
    this.waiting.delete(caller);
    const n = (this.running.get(caller) ?? 1) - 1;
    if (n <= 0) this.running.delete(caller);
    else this.running.set(caller, n);
  }

  private wait(caller: string, signal?: AbortSignal): Promise<void> {
    const queue = this.waiting.get(caller) ?? [];
    if (queue.length >= this.queue.length) throw this.tooMany(`at most ${this.perCaller} per user may run`);
    if (signal?.aborted) throw new QueryAbandonedError('The request went away while its listing waited for a slot.');
    this.waiting.set(caller, queue);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abandoned);
      };
      const take = () => {
        done();
        resolve();
      };
      const giveUp = (err: Error) => {
        done();
        const i = queue.indexOf(take);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0 && this.waiting.get(caller) === queue) this.waiting.delete(caller);
        reject(err);
      };
      const abandoned = () =>
        giveUp(new QueryAbandonedError('The request went away while its listing waited for a slot.'));
      const timer = setTimeout(
        () => giveUp(this.tooMany(`none of the ${this.perCaller} per user finished within ${this.queue.maxWaitMs} ms`)),
        this.queue.maxWaitMs,
      );
      signal?.addEventListener('abort', abandoned, { once: true });
      queue.push(take);
    });
  }

  private tooMany(why: string): TooManyRequestsError {
    return new TooManyRequestsError(
      `Too many machine listings at once: ${why}; retry when one has finished.`,
      this.retryAfterSeconds,
    );
  }
}
