// Workflow starts a request stopped waiting for (services/lifecycle-start.ts): each one still runs
// to its end here, its failure caught (the outbox row stays for a repeated request or the
// reconciler, as after a 503), and the region's shutdown waits for them before it closes the
// database and the Temporal connection they use.

/** The settled value of `p` if it settles within `ms`, else undefined (`p` keeps running). */
export async function settledWithin<T>(p: Promise<T>, ms: number): Promise<PromiseSettledResult<T> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([
      p.then(
        (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
        (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class BackgroundStarts {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly onFailure: (systemId: string, err: unknown) => void) {}

  /** Let `start` finish without a caller; never an unhandled rejection. */
  track(systemId: string, start: Promise<unknown>): void {
    const done: Promise<void> = start.then(
      () => undefined,
      (err: unknown) => this.onFailure(systemId, err),
    );
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  /** How many are still running (tests, shutdown logs). */
  get size(): number {
    return this.running.size;
  }

  /** Wait for every start made so far (and any tracked meanwhile) to end. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
