// The region worker: every workflow, plus the database activities, on the `region` task queue.
import { NativeConnection, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { createRegionActivities } from '../activities/region';
import type { RegionActivities } from '../contracts/activities';
import type { Log } from '../contracts/log';
import type { RegionMetrics } from './metrics';
import { workflowOutcomeCounter } from './temporal/workflow-metrics';
import type { RegionServices } from './services';
import { REGION_TASK_QUEUE } from '../contracts/workflows';

export interface RegionWorkerOptions {
  address: string;
  namespace: string;
  db: DataSource;
  /** The services the activities call (composed once by createRegionServices). */
  services: Pick<RegionServices, 'release'>;
  /** A pre-built bundle (tests build it once); otherwise the workflows are bundled on start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Tests wrap the region activities (e.g. to hold one at a chosen moment). */
  wrapActivities?: (activities: RegionActivities) => RegionActivities;
  /** Lifecycle outcomes are counted there and logged, when given. */
  metrics?: { metrics: RegionMetrics; log: Log };
}

export const WORKFLOWS_PATH = require.resolve('../workflows');
/** Bundled with the workflows (a pre-built bundle must list it too): activity summaries for the UI. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/operator-view')];

export async function createRegionWorker(
  o: RegionWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: o.address });
  const worker = await Worker.create({
    connection,
    namespace: o.namespace,
    taskQueue: REGION_TASK_QUEUE,
    activities: (o.wrapActivities ?? ((a) => a))(createRegionActivities(o.db, o.services)),
    ...workflowSource(o),
    // Workflows are few and short; bounded so one region cannot starve the database pool.
    maxConcurrentActivityTaskExecutions: 50,
  });
  return { worker, connection };
}

/**
 * Where the worker's workflows come from and its interceptors, as one `interceptors` object: two
 * spreads each giving `interceptors` kept only the last, so a region with metrics (the real one,
 * always) bundled its workflows without the activity summaries' module.
 */
export function workflowSource(
  o: Pick<RegionWorkerOptions, 'workflowBundle' | 'metrics'>,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> {
  return {
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    interceptors: {
      // A pre-built bundle carries them already (the SDK would ignore them, with a warning).
      workflowModules: o.workflowBundle ? [] : WORKFLOW_INTERCEPTOR_MODULES,
      activity: o.metrics ? [workflowOutcomeCounter(o.metrics.metrics, o.metrics.log)] : [],
    },
  };
}
