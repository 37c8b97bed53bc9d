// The rack's Temporal worker: ONLY activities, on the rack's own task queue (rack:<system_id>),
// so hardware work lands on the rack that reaches the hardware. Workflows run on the region.
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { RackActivities } from '../contracts/activities';
import { activityLogFields } from './activity-log-fields';
import type { WorkerHealth } from './heartbeat';

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
  /** What the heartbeat reports: the worker's own state, and the error its run() ended with. */
  health(): WorkerHealth;
  stop(): Promise<void>;
}

export async function startRackWorker(o: RackWorkerOptions): Promise<RunningRackWorker> {
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    // The activities object literal is the whole registration: no workflowsPath, no bundle.
    activities: { ...o.activities },
    interceptors: { activity: [activityLogFields] },
    // Power actions are short; let one in flight finish rather than leave a BMC half-driven.
    shutdownGraceTime: '10 seconds',
  });
  const running = worker.run();
  let failure: Error | undefined;
  running.catch((err: unknown) => {
    failure = err instanceof Error ? err : new Error(String(err));
    o.log?.(`rack worker stopped with an error: ${failure.message}`);
  });
  return {
    worker,
    running,
    health: () => {
      const status = worker.getStatus();
      return {
        runState: status.runState,
        activityPollerState: status.activityPollerState,
        ...(failure ? { failure } : {}),
      };
    },
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}
