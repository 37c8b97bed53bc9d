// Activity proxies: database work on the region's queue, hardware work on the machine's rack queue.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { RackActivities, RegionActivities } from '../contracts/activities';
import { POWER_FATAL_ERROR } from '../contracts/activities';
import { REGION_TASK_QUEUE } from '../contracts/workflows';

export const region = proxyActivities<RegionActivities>({
  taskQueue: REGION_TASK_QUEUE,
  startToCloseTimeout: '30 seconds',
  // The database coming back is worth waiting for: a region restart must not fail a machine.
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

/**
 * The same region activities run as local activities (in the region worker's own process, within
 * the workflow task): a short database write then costs no task of its own on Temporal's server
 * (no schedule, poll, start and completion round trips), only a marker in the history. Same retry
 * as `region`; past Temporal's local retry threshold the worker waits on a timer between attempts.
 * Workflows use them behind the frame's patches (frame-patches.ts: FEWER_ROUND_TRIPS_PATCH and later).
 */
export const regionLocal = proxyLocalActivities<RegionActivities>({
  startToCloseTimeout: '30 seconds',
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
    // then waits for the state to settle (abort's and older workflows' power steps, boot
    // preparation). Heartbeats (every 5 s) notice a dead rack quickly, and the wait for a worker
    // to pick the task up at all is bounded too.
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

/** The bound of a lifecycle power step when its workflow gives none (MAAS's node_timeout: 30 min). */
export const POWER_STEP_DEFAULT_MS = 20 * 60_000;
/** Never less: one BMC attempt and its settle wait (~60 s) must fit, even with a tiny node_timeout. */
export const POWER_STEP_MIN_MS = 2 * 60_000;

/**
 * A lifecycle workflow's power steps (call them with `retriedByTemporal: true`): one BMC attempt
 * per activity attempt, retried by this policy, which is MAAS's driver schedule (4, 8, 16, 32 s,
 * then every 32 s), so `temporal workflow describe` shows the attempt and the BMC's last error and
 * the activity commands (pause, unpause, reset, update-options) act on it. `withinMs` bounds all
 * attempts together (schedule-to-close, which a pause does not stop): the operation's silence
 * budget, so a BMC that stays unreachable fails the machine no later than a silent machine would.
 */
export function powerStepsOf(rackQueue: string, withinMs = POWER_STEP_DEFAULT_MS): RackActivities {
  const bound = Math.max(withinMs, POWER_STEP_MIN_MS);
  return proxyActivities<RackActivities>({
    taskQueue: rackQueue,
    // One attempt: the BMC's own timeouts (ipmitool 15 s, HTTP 30 s) per call plus the settle wait.
    startToCloseTimeout: Math.min(5 * 60_000, bound),
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: bound,
    retry: {
      initialInterval: '4 seconds',
      backoffCoefficient: 2,
      maximumInterval: '32 seconds',
      nonRetryableErrorTypes: [POWER_FATAL_ERROR],
    },
  });
}
