// Runs items in the order given, at most `lanes` at a time. The lanes can change while it runs:
// `npm test` widens the e2e labs' lanes once the other tests no longer hold one.
export class LaneQueue<T, R> {
  readonly done: Promise<R[]>;
  private readonly results: R[] = [];
  private readonly active = new Set<T>();
  private next = 0;
  private finish!: (results: R[]) => void;
  private fail!: (err: unknown) => void;

  constructor(
    private readonly items: readonly T[],
    private lanes: number,
    private readonly run: (item: T) => Promise<R>,
  ) {
    this.done = new Promise<R[]>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    this.pump();
  }

  setLanes(lanes: number): void {
    this.lanes = lanes;
    this.pump();
  }

  /** Start nothing more: done once the items already started have ended. */
  close(): void {
    this.next = this.items.length;
    this.pump();
  }

  /** The items started and not yet finished. */
  running(): T[] {
    return [...this.active];
  }

  private pump(): void {
    while (this.next < this.items.length && this.active.size < this.lanes) {
      const item = this.items[this.next++]!;
      this.active.add(item);
      this.run(item).then((result) => {
        this.active.delete(item);
        this.results.push(result);
        this.pump();
      }, this.fail);
    }
    if (this.next >= this.items.length && this.active.size === 0) this.finish(this.results);
  }
}
