// Tells the region what the DHCP server did (commit/release/expiry), in order, in batches. The
// region may be down for a while: events wait in a bounded queue and retryable failures are
// retried with backoff. Events are not the only record: with a `snapshot` source, the first report
// (after a rack restart, whose queue is gone) and the first after the queue overflowed are the
// rack's whole current lease table, which replaces what the region holds for this rack, so
// nothing a restart or an outage lost stays wrong in the region.
import type { DhcpLeaseEvent } from '../../contracts/rack-api';
import { sleep } from '../backoff';
import { isRetryableRegionError } from '../region-client';

export interface LeaseReporterOptions {
  /** `replace`: the events are the rack's whole lease table (commits only). */
  report: (events: DhcpLeaseEvent[], signal: AbortSignal, replace?: boolean) => Promise<void>;
  /** The rack's current leases as commit events; taken at the moment a resync is sent. */
  snapshot?: () => DhcpLeaseEvent[];
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
  /** The region's view may be incomplete: send a snapshot before more events. */
  private resync: boolean;
  private wake: (() => void) | undefined;
  private failure: string | undefined;
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly o: LeaseReporterOptions) {
    this.resync = o.snapshot !== undefined;
    this.loop = this.run(this.abort.signal);
  }

  push(event: DhcpLeaseEvent): void {
    this.queue.push({ seq: ++this.seq, event });
    const max = this.o.maxQueue ?? 10_000;
    if (this.queue.length > max) {
      const over = this.queue.length - max;
      this.queue.splice(0, over);
      if (this.dropped === 0) {
        this.o.log(
          `dhcp lease reports: queue full (${max}); dropping the oldest events until the region catches up` +
            (this.o.snapshot ? ', then sending the whole lease table' : ''),
        );
      }
      this.dropped += over;
      if (this.o.snapshot) this.resync = true;
    }
    this.wake?.();
  }

  /** Reports still to send: queued events, plus one for the lease table when it is due. */
  get pending(): number {
    return this.queue.length + (this.resync ? 1 : 0);
  }

  /** What is waiting, for the service status. */
  get backlog(): string {
    return `${this.queue.length} event(s)${this.resync ? ' and the lease table' : ''} queued`;
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
    if (!this.pending) return;
    try {
      await this.sendNext(AbortSignal.timeout(graceMs));
    } catch (err) {
      this.o.log(
        `dhcp lease reports: ${this.queue.length} event(s) not delivered at shutdown: ${(err as Error).message}`,
      );
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      if (!this.pending) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      if (signal.aborted) break;
      // A full batch goes at once; a few events wait a moment for company.
      if (!this.resync && this.queue.length < this.batchSize)
        await sleep(this.o.everyMs ?? 1_000, signal).catch(() => undefined);
      if (signal.aborted) break;
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.sendNext(signal, batch);
        if (this.failure) this.o.log('dhcp lease reports: the region takes them again');
        this.failure = undefined;
        delay = 500;
      } catch (err) {
        if (signal.aborted) break;
        const message = (err as Error).message;
        if (!isRetryableRegionError(err)) {
          // The region refuses these events (4xx): sending them again would be refused forever.
          if (this.resync) {
            this.o.log(`dhcp lease reports: the region refused the lease table, sending events only: ${message}`);
            this.resync = false;
          } else {
            this.o.log(`dhcp lease reports: the region refused a batch, dropped: ${message}`);
            this.forget(batch);
          }
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

  /** A snapshot when one is due (it covers every event queued so far), else the next batch. */
  private async sendNext(signal: AbortSignal, batch = this.queue.slice(0, this.batchSize)): Promise<void> {
    if (this.resync && this.o.snapshot) {
      const upTo = this.seq; // the snapshot is taken now, so it includes every event pushed so far
      // Cleared before sending: an overflow while the report is in flight asks for another.
      this.resync = false;
      try {
        await this.o.report(this.o.snapshot(), signal, true);
      } catch (err) {
        this.resync = true;
        throw err;
      }
      this.forget([{ seq: upTo }]);
    } else {
      if (!batch.length) return;
      await this.o.report(
        batch.map((b) => b.event),
        signal,
      );
      this.forget(batch);
    }
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
