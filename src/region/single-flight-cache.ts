// A value that is costly to compute and read by anyone who asks (the unauthenticated
// /MAAS/metrics): computed at most once per `ttlMs`, with one computation in flight that every
// concurrent caller shares, so a flood of readers costs one computation per period. A failure is
// kept for the period too: during a database outage a flood must not turn into a query a request.

interface Entry<T> {
  value: Promise<T>;
  /** When the computation settled; null while it runs. */
  settledAt: number | null;
}

export class SingleFlightCache<T> {
  private current: Entry<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const c = this.current;
    if (c && (c.settledAt === null || this.now() - c.settledAt < this.ttlMs)) return c.value;
    const entry: Entry<T> = { value: this.load(), settledAt: null };
    const settled = () => {
      entry.settledAt = this.now();
    };
    entry.value.then(settled, settled);
    this.current = entry;
    return entry.value;
  }
}
