// A trivial request sent back to back from a thread of its own (its own event loop), so what it
// measures is the server's answer time: run in the bench's main thread, every probe also waited
// for the bench's own reading of the 59 MiB listing it runs beside.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
let stopped = false;
parentPort.once('message', () => { stopped = true; });
(async () => {
  const times = [];
  while (!stopped && (workerData.count === null || times.length < workerData.count)) {
    const start = process.hrtime.bigint();
    const r = await fetch(workerData.url);
    await r.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  parentPort.postMessage(times);
})();
`;

/** GETs `url` back to back until `during` settles (or `count` times without one); the latencies in ms. */
export async function probe(url: string, o: { count: number } | { during: Promise<unknown> }): Promise<number[]> {
  const worker = new Worker(PROBE, { eval: true, workerData: { url, count: 'count' in o ? o.count : null } });
  try {
    const answer = once(worker, 'message') as Promise<[number[]]>;
    if ('during' in o) {
      await o.during;
      worker.postMessage('stop');
    }
    const [times] = await answer;
    return times;
  } finally {
    await worker.terminate();
  }
}
