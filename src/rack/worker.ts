// The rack's Temporal worker: ONLY activities, on the rack's own task queue (rack:<system_id>),
// so hardware work lands on the rack that reaches the hardware. Workflows run on the region.
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { RackActivities } from '../contracts/activities';

export interface RackWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: RackActivities;
  log?: (line: string) => void;
}

export interface RunningRackWorker {
  worker: Worker;
  /** Settles when the worker stops; rejects on a fatal worker error. */
  running: Promise<void>;
  stop(): Promise<void>;
}

export async function startRackWorker(o: RackWorkerOptions): Promise<RunningRackWorker> {
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    // The activities object literal is the whole registration: no workflowsPath, no bundle.
    activities: { ...o.activities },
    // Power actions are short; let one in flight finish rather than leave a BMC half-driven.
    shutdownGraceTime: '10 seconds',
  });
  const running = worker.run();
  running.catch((err: unknown) => o.log?.(`rack worker stopped with an error: ${(err as Error).message}`));
  return {
    worker,
    running,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}
