// Tells the region what the DHCP server did (commit/release/expiry), in order, in batches. The
// region may be down for a while: events wait in a bounded queue (the oldest go first when it is
// full, with a log line) and retryable failures are retried with backoff.
import type { DhcpLeaseEvent } from '../../contracts/rack-api';
import { sleep } from '../backoff';
import { isRetryableRegionError } from '../region-client';

export interface LeaseReporterOptions {
  report: (events: DhcpLeaseEvent[], signal: AbortSignal) => Promise<void>;
  log: (line: string) => void;
  /** How long events gather before a report goes out. */
  everyMs?: number;
  batchSize?: number;
  maxQueue?: number;
  maxRetryDelayMs?: number;
}

export class LeaseReporter {
  private queue: Array<{ seq: number; event: DhcpLeaseEvent }> = [];
  private seq = 0;
  private dropped = 0;
  private wake: (() => void) | undefined;
  private failure: string | undefined;
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly o: LeaseReporterOptions) {
    this.loop = this.run(this.abort.signal);
  }

  push(event: DhcpLeaseEvent): void {
    this.queue.push({ seq: ++this.seq, event });
    const max = this.o.maxQueue ?? 10_000;
    if (this.queue.length > max) {
      const over = this.queue.length - max;
      this.queue.splice(0, over);
      if (this.dropped === 0) this.o.log(`dhcp lease reports: queue full (${max}); dropping the oldest events until the region catches up`);
      this.dropped += over;
    }
    this.wake?.();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Why reports are failing right now, if they are. */
  get failing(): string | undefined {
    return this.failure;
  }

  /** Stops the loop, then tries once (for at most `graceMs`) to deliver what is left. */
  async stop(graceMs = 2_000): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.loop;
    if (!this.queue.length) return;
    try {
      await this.sendBatch(this.queue.slice(0, this.batchSize), AbortSignal.timeout(graceMs));
    } catch (err) {
      this.o.log(`dhcp lease reports: ${this.queue.length} event(s) not delivered at shutdown: ${(err as Error).message}`);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      if (!this.queue.length) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      if (signal.aborted) break;
      // A full batch goes at once; a few events wait a moment for company.
      if (this.queue.length < this.batchSize) await sleep(this.o.everyMs ?? 1_000, signal).catch(() => undefined);
      if (signal.aborted) break;
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.sendBatch(batch, signal);
        if (this.failure) this.o.log('dhcp lease reports: the region takes them again');
        this.failure = undefined;
        delay = 500;
      } catch (err) {
        if (signal.aborted) break;
        const message = (err as Error).message;
        if (!isRetryableRegionError(err)) {
          // The region refuses these events (4xx): sending them again would be refused forever.
          this.o.log(`dhcp lease reports: the region refused a batch, dropped: ${message}`);
          this.forget(batch);
          continue;
        }
        if (!this.failure) this.o.log(`dhcp lease reports failing (will retry): ${message}`);
        this.failure = message;
        await sleep(delay, signal).catch(() => undefined);
        delay = Math.min(delay * 2, this.o.maxRetryDelayMs ?? 30_000);
      }
    }
  }

  private get batchSize(): number {
    return this.o.batchSize ?? 500;
  }

  private async sendBatch(batch: Array<{ seq: number; event: DhcpLeaseEvent }>, signal: AbortSignal): Promise<void> {
    if (!batch.length) return;
    await this.o.report(batch.map((b) => b.event), signal);
    this.forget(batch);
    if (this.dropped) {
      this.o.log(`dhcp lease reports: caught up; ${this.dropped} event(s) were dropped while the queue was full`);
      this.dropped = 0;
    }
  }

  /** By sequence number: the queue may have dropped its head while the batch was in flight. */
  private forget(batch: Array<{ seq: number }>): void {
    const last = batch[batch.length - 1]?.seq ?? 0;
    this.queue = this.queue.filter((b) => b.seq > last);
  }
}
