// Self-fencing (docs/adr/0005-rack-failover.md). The region calls a rack dead once its last
// heartbeat is RACK_FAILOVER_AFTER_S old, and its VLAN partner then serves its task queue. A rack
// cut off from the region only (its heartbeat POSTs fail) may still reach Temporal and its BMCs:
// left alone it would keep running its power activities while the partner retries the same ones,
// two racks driving one machine. So a rack whose own heartbeats have not gone through for
// SELF_FENCE_AFTER_S fences itself first: it aborts its in-flight activities and stops polling
// Temporal (its own queue and those it covers), and serves again once a heartbeat goes through.
import { ApplicationFailure } from '@temporalio/activity';
import { RACK_FAILOVER_AFTER_S } from '../contracts/rack-api';
import { sleep } from './backoff';

/**
 * Fence this long after the send time of the last heartbeat that went through: 15 s before the
 * partner may take over, for the activities to abort and the worker to stop (the region's
 * last_seen is at or after that send time, so the rack is never late by the region's count).
 */
export const SELF_FENCE_AFTER_S = RACK_FAILOVER_AFTER_S - 15;

/** The failure a fenced rack's activities end with: retryable, so the partner's retry runs them. */
export const RACK_FENCED_ERROR = 'RackFencedError';

/** Whether a rack whose last heartbeat that went through was sent at `lastHeardSentAt` must be fenced now. */
export function mustFence(lastHeardSentAt: number, now: number, fenceAfterMs = SELF_FENCE_AFTER_S * 1000): boolean {
  return now - lastHeardSentAt >= fenceAfterMs;
}

export interface SelfFenceOptions {
  /** Stop polling Temporal: this rack's worker and the workers on queues it covers. */
  fence: () => Promise<void>;
  /** Poll again: a new worker on this rack's own queue. */
  unfence: () => Promise<void>;
  log: (line: string) => void;
  fenceAfterMs?: number;
  /** How often the deadline is looked at: a heartbeat that hangs must not delay the fence. */
  checkEveryMs?: number;
  /** A monotonic clock (a wall clock set back would delay the fence). */
  now?: () => number;
}

export class SelfFence {
  private readonly now: () => number;
  private readonly fenceAfterMs: number;
  private lastHeardSentAt: number;
  private controller = new AbortController();
  private fenced = false;
  /** Transitions run one at a time, in order (stopping and starting a worker take a while). */
  private busy: Promise<void> = Promise.resolve();

  /** `since`: when the region last heard of this rack (its registration), by `now`. */
  constructor(
    private readonly o: SelfFenceOptions,
    since?: number,
  ) {
    this.now = o.now ?? (() => performance.now());
    this.fenceAfterMs = o.fenceAfterMs ?? SELF_FENCE_AFTER_S * 1000;
    this.lastHeardSentAt = since ?? this.now();
  }

  /** Aborted when this rack fences itself: the activities running then end with it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  isFenced(): boolean {
    return this.fenced;
  }

  /** A heartbeat sent at `sentAt` (by `now`) went through. */
  heard(sentAt: number): Promise<void> {
    this.lastHeardSentAt = Math.max(this.lastHeardSentAt, sentAt);
    return this.check();
  }

  /** Fences or unfences as the deadline says; settles once that is done. Never rejects. */
  check(): Promise<void> {
    this.busy = this.busy.then(async () => {
      const must = mustFence(this.lastHeardSentAt, this.now(), this.fenceAfterMs);
      if (must === this.fenced) return;
      this.fenced = must;
      try {
        if (must) {
          const silentS = Math.round((this.now() - this.lastHeardSentAt) / 1000);
          const why = `the region has not heard from this rack for ${silentS} s; fenced so that its partner rack can take its machines over`;
          this.o.log(`${why}: aborting running activities, no longer polling Temporal`);
          this.controller.abort(ApplicationFailure.create({ message: why, type: RACK_FENCED_ERROR }));
          await this.o.fence();
        } else {
          this.controller = new AbortController();
          this.o.log('the region hears this rack again: serving its task queue again');
          await this.o.unfence();
        }
      } catch (err) {
        this.o.log(`self-fence: ${(err as Error).message}`);
        // A worker that could not start is started again at the next check.
        if (!must) this.fenced = true;
      }
    });
    return this.busy;
  }

  /** Looks at the deadline every `checkEveryMs` until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.check();
      await sleep(this.o.checkEveryMs ?? 1_000, signal).catch(() => undefined);
    }
    await this.busy;
  }
}
