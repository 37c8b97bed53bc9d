// A rack covers the task queues of silent partner racks (docs/adr/0005-rack-failover.md): it asks
// the region which ones, and runs a worker with its own activities on each until the region stops
// naming it (the partner is heard from again). Temporal then hands the dead rack's pending and
// retried activities to this rack: the machines' workflows carry on without knowing.
import type { CoveredQueues } from '../contracts/rack-api';
import { sleep } from './backoff';
import type { RunningRackWorker } from './worker';

export interface QueueTakeoverOptions {
  region: { coveredQueues(rackSystemId: string, signal?: AbortSignal): Promise<CoveredQueues> };
  rackSystemId: () => string;
  everyMs: number;
  /**
   * Whether the region's view of who is silent can be trusted now: after the region (or this
   * rack's way to it) was down, every rack looks silent until it has heartbeated again, so a rack
   * asks only once its own heartbeats have gone through for the whole failover delay.
   */
  mayAsk?: () => boolean;
  /** A worker with this rack's activities on another rack's task queue. */
  startWorker: (taskQueue: string) => Promise<Pick<RunningRackWorker, 'stop'>>;
  log: (line: string) => void;
}

export interface QueueTakeover {
  /** The task queues served for other racks right now (for the heartbeat and tests). */
  covering(): string[];
  /**
   * Stops every covering worker now (this rack fenced itself: it no longer knows who is silent).
   * The loop covers queues again once mayAsk() allows it.
   */
  release(): Promise<void>;
  /** Settles once `signal` aborted and every covering worker stopped; never rejects. */
  done: Promise<void>;
}

export function queueTakeoverLoop(o: QueueTakeoverOptions, signal: AbortSignal): QueueTakeover {
  const workers = new Map<string, Pick<RunningRackWorker, 'stop'>>();
  const done = (async () => {
    let failing = false;
    while (!signal.aborted) {
      try {
        if (o.mayAsk && !o.mayAsk()) {
          await sleep(o.everyMs, signal).catch(() => undefined);
          continue;
        }
        const { queues } = await o.region.coveredQueues(o.rackSystemId(), signal);
        failing = false;
        await reconcile(queues);
      } catch (err) {
        if (signal.aborted) break;
        // One line per streak: a region down for minutes must not flood the log. The workers
        // already covering keep polling meanwhile (a dead partner stays dead without a region),
        // until this rack fences itself (release(), self-fence.ts).
        if (!failing) o.log(`covered task queues: ${(err as Error).message}`);
        failing = true;
      }
      await sleep(o.everyMs, signal).catch(() => undefined);
    }
    await Promise.all([...workers.values()].map((w) => w.stop()));
    workers.clear();
  })();

  async function reconcile(queues: CoveredQueues['queues']): Promise<void> {
    const wanted = new Map(queues.map((q) => [q.taskQueue, q]));
    for (const [queue, q] of wanted) {
      // (mayAsk again: this rack may have fenced itself while the region answered.)
      if (workers.has(queue) || signal.aborted || (o.mayAsk && !o.mayAsk())) continue;
      try {
        const worker = await o.startWorker(queue);
        // Fenced while it started (release() did not see it): not this rack's to serve now.
        if (o.mayAsk && !o.mayAsk()) {
          await worker.stop();
          continue;
        }
        workers.set(queue, worker);
        o.log(`rack ${q.rackName} is silent: serving its task queue ${queue} too`);
      } catch (err) {
        o.log(`cannot serve rack ${q.rackName}'s task queue ${queue}: ${(err as Error).message}`);
      }
    }
    for (const [queue, worker] of workers) {
      if (wanted.has(queue)) continue;
      workers.delete(queue);
      await worker.stop();
      o.log(`no longer serving task queue ${queue}: its rack is heard from again`);
    }
  }

  async function release(): Promise<void> {
    const stopping = [...workers].map(async ([queue, worker]) => {
      workers.delete(queue);
      await worker.stop();
      o.log(`no longer serving task queue ${queue}: this rack is fenced`);
    });
    await Promise.all(stopping);
  }

  return { covering: () => [...workers.keys()], release, done };
}
