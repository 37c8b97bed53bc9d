// Activity proxies: database work on the region's queue, hardware work on the machine's rack queue.
import { proxyActivities } from '@temporalio/workflow';
import type { RackActivities, RegionActivities } from '../contracts/activities';
import { POWER_FATAL_ERROR } from '../contracts/activities';
import { REGION_TASK_QUEUE } from '../contracts/workflows';

export const region = proxyActivities<RegionActivities>({
  taskQueue: REGION_TASK_QUEUE,
  startToCloseTimeout: '30 seconds',
  // The database coming back is worth waiting for: a region restart must not fail a machine.
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/** Rack activities. `answerWithinMs`: someone waits on an API call (power_on, query_power_state):
 * one attempt (the driver already retries on MAAS's schedule inside it), bounded, so the caller
 * gets the BMC's answer or its failure instead of waiting on Temporal's retries. */
export function rackOf(rackQueue: string, answerWithinMs?: number): RackActivities {
  if (answerWithinMs !== undefined) {
    return proxyActivities<RackActivities>({
      taskQueue: rackQueue,
      heartbeatTimeout: '30 seconds',
      scheduleToCloseTimeout: answerWithinMs,
      retry: { maximumAttempts: 1 },
    });
  }
  return proxyActivities<RackActivities>({
    taskQueue: rackQueue,
    // A BMC gets several minutes: the driver retries inside with MAAS's 4/8/16/32 s backoff and
    // then waits for the state to settle. Heartbeats (every 5 s) notice a dead rack quickly, and
    // the wait for a worker to pick the task up at all is bounded too.
    startToCloseTimeout: '8 minutes',
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: '20 minutes',
    retry: {
      initialInterval: '2 seconds',
      maximumInterval: '1 minute',
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [POWER_FATAL_ERROR],
    },
  });
}
