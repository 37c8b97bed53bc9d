import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workflowTimeline, type TimelineEvent } from '../e2e/lab/workflow-timeline';

const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);
/** An event at `s` seconds after T0, as Temporal's client gives it (seconds as a Long-like, nanos). */
const at = (id: number, s: number, rest: Partial<TimelineEvent>): TimelineEvent => ({
  eventId: { toString: () => String(id) },
  eventTime: {
    seconds: { valueOf: () => Math.floor((T0 + s * 1000) / 1000) },
    nanos: Math.round(((T0 + s * 1000) % 1000) * 1e6),
  },
  ...rest,
});

describe("the orchestrated run's workflow timeline", () => {
  it('lists activities with their queue and run times, signals, and the completion', () => {
    const { entries, completedMs } = workflowTimeline(
      [
        at(1, 0.05, {}),
        at(5, 0.2, { activityTaskScheduledEventAttributes: { activityType: { name: 'beginTransition' } } }),
        at(6, 0.25, { activityTaskStartedEventAttributes: { scheduledEventId: 5 } }),
        at(7, 0.4, { activityTaskCompletedEventAttributes: { scheduledEventId: 5 } }),
        at(11, 1.0, { activityTaskScheduledEventAttributes: { activityType: { name: 'powerOn' } } }),
        at(12, 1.5, { activityTaskStartedEventAttributes: { scheduledEventId: 11 } }),
        at(13, 3.0, { activityTaskFailedEventAttributes: { scheduledEventId: 11 } }),
        at(20, 9.0, { workflowExecutionSignaledEventAttributes: { signalName: 'machine' } }),
        at(30, 10.5, { workflowExecutionCompletedEventAttributes: {} }),
      ],
      T0,
    );
    assert.deepEqual(entries, [
      { what: 'beginTransition', at: 0.2, queued_ms: 50, ran_ms: 150 },
      { what: 'powerOn', at: 1, queued_ms: 500, ran_ms: 1500 },
      { what: 'signal machine', at: 9 },
      { what: 'workflow completed', at: 10.5 },
    ]);
    assert.equal(completedMs, T0 + 10_500);
  });

  it('has no completion while the workflow runs', () => {
    assert.equal(workflowTimeline([at(1, 0, {})], T0).completedMs, null);
  });
});
