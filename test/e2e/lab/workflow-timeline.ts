// Where the orchestrated run's own time goes, from Temporal's history of the machine's workflow
// (millisecond event times kept by the server): each activity scheduled → started → completed, and
// the gaps in between (workflow tasks, signals). Pure: commission-bench.ts fetches the history;
// test/unit/workflow-timeline.test.ts checks this on events.

/** The parts of a history event this reads (temporal.api.history.v1.IHistoryEvent). */
export interface TimelineEvent {
  eventId?: unknown;
  eventTime?: { seconds?: unknown; nanos?: number | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskFailedEventAttributes?: { scheduledEventId?: unknown } | null;
  workflowExecutionSignaledEventAttributes?: { signalName?: string | null } | null;
  workflowExecutionCompletedEventAttributes?: unknown;
}

export interface TimelineEntry {
  /** An activity's type, `signal <name>`, or `workflow completed`. */
  what: string;
  /** Seconds since the run's start: scheduled (or the signal / completion). */
  at: number;
  /** Activities: scheduled → started (waiting for a worker) and started → done (running), ms. */
  queued_ms?: number;
  ran_ms?: number;
}

const ms = (e: TimelineEvent): number => {
  const t = e.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);
};

export function workflowTimeline(
  events: TimelineEvent[],
  startMs: number,
): { entries: TimelineEntry[]; completedMs: number | null } {
  const s = (t: number) => Math.round(t - startMs) / 1000;
  const scheduled = new Map<string, { name: string; at: number; started?: number }>();
  const entries: TimelineEntry[] = [];
  const open = new Map<string, TimelineEntry>();
  let completedMs: number | null = null;
  for (const e of events) {
    const id = String(e.eventId);
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) {
      scheduled.set(id, { name, at: ms(e) });
      const entry: TimelineEntry = { what: name, at: s(ms(e)) };
      open.set(id, entry);
      entries.push(entry);
      continue;
    }
    const startedOf = e.activityTaskStartedEventAttributes?.scheduledEventId;
    if (startedOf !== undefined && startedOf !== null) {
      const a = scheduled.get(String(startedOf));
      if (a) a.started = ms(e);
      continue;
    }
    const doneOf =
      e.activityTaskCompletedEventAttributes?.scheduledEventId ?? e.activityTaskFailedEventAttributes?.scheduledEventId;
    if (doneOf !== undefined && doneOf !== null) {
      const a = scheduled.get(String(doneOf));
      const entry = open.get(String(doneOf));
      if (a && entry) {
        const started = a.started ?? a.at;
        entry.queued_ms = started - a.at;
        entry.ran_ms = ms(e) - started;
      }
      continue;
    }
    const signal = e.workflowExecutionSignaledEventAttributes?.signalName;
    if (signal) entries.push({ what: `signal ${signal}`, at: s(ms(e)) });
    if (e.workflowExecutionCompletedEventAttributes) {
      completedMs = ms(e);
      entries.push({ what: 'workflow completed', at: s(completedMs) });
    }
  }
  return { entries, completedMs };
}
