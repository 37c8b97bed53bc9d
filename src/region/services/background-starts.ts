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
  /** The start still under way for each machine (one at a time: its row lock orders them). */
  private readonly byMachine = new Map<string, Promise<void>>();

  constructor(private readonly onFailure: (systemId: string, err: unknown) => void) {}

  /** Let a start (already inFlight) finish without a caller: its failure reported, never an unhandled rejection. */
  track(systemId: string, start: Promise<unknown>): void {
    const done: Promise<void> = start.then(
      () => undefined,
      (err: unknown) => {
        try {
          this.onFailure(systemId, err);
        } catch {
          // Reporting a failure must not become one: the outbox row still says what is owed.
        }
      },
    );
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  /** `start` is the machine's start under way (settled() waits for it), whoever awaits its outcome. */
  inFlight(systemId: string, start: Promise<unknown>): void {
    const ended: Promise<void> = start.then(
      () => undefined,
      () => undefined,
    );
    this.byMachine.set(systemId, ended);
    void ended.finally(() => {
      if (this.byMachine.get(systemId) === ended) this.byMachine.delete(systemId);
    });
  }

  /**
   * Resolves once the machine's start under way (if any) has ended, however it ended: an abort
   * or mark_broken right after the 200 must find the workflow it stops, not race its start.
   */
  settled(systemId: string): Promise<void> {
    return this.byMachine.get(systemId) ?? Promise.resolve();
  }

  /** Wait for every start made so far (and any tracked meanwhile) to end. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
