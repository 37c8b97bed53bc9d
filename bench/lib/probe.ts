// A trivial request sent back to back from a thread of its own (its own event loop), so what it
// measures is the server's answer time: run in the bench's main thread, every probe also waited
// for the bench's own reading of the 59 MiB listing it runs beside. One thread serves every round,
// warmed up (fetch loaded, connection open) before the first, and each round's probing is running
// before the work it watches starts.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const ask = async () => {
  const start = process.hrtime.bigint();
  const r = await fetch(workerData.url);
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error('probe answered HTTP ' + r.status);
  return Number(process.hrtime.bigint() - start) / 1e6;
};
let stopped = true;
parentPort.on('message', async (m) => {
  if (m.stop) return void (stopped = true);
  stopped = false;
  const times = [];
  // The first probe goes out as this is read: the watched work may start.
  parentPort.postMessage({ running: true });
  while (!stopped && (m.count === null || times.length < m.count)) times.push(await ask());
  parentPort.postMessage({ times });
});
(async () => {
  for (let i = 0; i < 3; i++) await ask();
  parentPort.postMessage({ ready: true });
})();
`;

type Message = { ready: true } | { running: true } | { times: number[] };

export class Prober {
  private readonly worker: Worker;
  private readonly messages: Message[] = [];
  private waiting: ((m: Message) => void) | undefined;
  private failure: Error | undefined;
  /** Rejects when the thread is gone: a probe that fails ends the bench with its cause. */
  private readonly exited: Promise<never>;

  private constructor(url: string) {
    this.worker = new Worker(PROBE, { eval: true, workerData: { url } });
    this.worker.on('message', (m: Message) => this.deliver(m));
    this.worker.on('error', (err) => (this.failure = err));
    this.exited = once(this.worker, 'exit').then(() => {
      throw this.failure ?? new Error('the probe thread exited');
    });
    this.exited.catch(() => undefined);
  }

  /** A prober of `url`, warmed up (three requests not recorded). */
  static async start(url: string): Promise<Prober> {
    const p = new Prober(url);
    await p.next('ready');
    return p;
  }

  /** `count` probes back to back; their latencies in ms. */
  async times(count: number): Promise<number[]> {
    this.worker.postMessage({ count });
    await this.next('running');
    return (await this.next('times')).times;
  }

  /** Probes back to back from before `work` starts until it settles; its result and the latencies. */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; times: number[] }> {
    this.worker.postMessage({ count: null });
    await this.next('running');
    try {
      return { result: await work(), times: await this.stopAndCollect() };
    } catch (err) {
      await this.stopAndCollect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private async stopAndCollect(): Promise<number[]> {
    this.worker.postMessage({ stop: true });
    return (await this.next('times')).times;
  }

  private deliver(m: Message): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(m);
    } else this.messages.push(m);
  }

  private async next<K extends 'ready' | 'running' | 'times'>(kind: K): Promise<Extract<Message, Record<K, unknown>>> {
    for (;;) {
      const m =
        this.messages.shift() ??
        (await Promise.race([new Promise<Message>((resolve) => (this.waiting = resolve)), this.exited]));
      if (kind in m) return m as Extract<Message, Record<K, unknown>>;
    }
  }
}
