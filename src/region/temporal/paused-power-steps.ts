// Which lifecycle power steps an operator has paused in Temporal (`temporal activity pause`), and
// the BMC's last error for each. Pausing leaves no trace in workflow history, so the region asks
// Temporal: visibility lists the workflows with a paused activity (TemporalPauseInfo), describe
// gives each paused activity's type, last failure and heartbeat details.
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { PowerHeartbeat, RackActivities } from '../../contracts/activities';

export interface PausedPowerStep {
  workflowId: string;
  activityType: keyof RackActivities;
  /** The BMC's last error ('' when no attempt has failed yet). */
  bmcError: string;
}

export interface PausedPowerSteps {
  /** Every paused power step; `complete` is false when there were more than `limit` paused workflows. */
  list(limit: number): Promise<{ steps: PausedPowerStep[]; complete: boolean }>;
}

const POWER_ACTIVITIES: ReadonlySet<string> = new Set<keyof RackActivities>([
  'powerOn',
  'powerOff',
  'powerCycle',
  'queryPower',
]);

/** The SDK's failure type when a running attempt was interrupted by the pause itself. */
const PAUSE_FAILURE = 'ActivityPause';

export class TemporalPausedPowerSteps implements PausedPowerSteps {
  constructor(private readonly client: Client) {}

  async list(limit: number): Promise<{ steps: PausedPowerStep[]; complete: boolean }> {
    const workflowIds: string[] = [];
    const query = `TemporalPauseInfo IS NOT NULL AND ExecutionStatus = 'Running'`;
    for await (const wf of this.client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      if (workflowIds.length === limit) return { steps: await this.describe(workflowIds), complete: false };
      workflowIds.push(wf.workflowId);
    }
    return { steps: await this.describe(workflowIds), complete: true };
  }

  private async describe(workflowIds: string[]): Promise<PausedPowerStep[]> {
    const steps: PausedPowerStep[] = [];
    for (const workflowId of workflowIds) {
      // A workflow that ended between the listing and here has nothing paused any more.
      const described = await this.client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      for (const a of described?.raw.pendingActivities ?? []) {
        const type = a.activityType?.name ?? '';
        if (!a.paused || !POWER_ACTIVITIES.has(type)) continue;
        steps.push({ workflowId, activityType: type as keyof RackActivities, bmcError: bmcErrorOf(a) });
      }
    }
    return steps;
  }
}

export type PendingActivity = {
  lastFailure?: { message?: string | null; applicationFailureInfo?: { type?: string | null } | null } | null;
  heartbeatDetails?: { payloads?: unknown[] | null } | null;
};

/** The last attempt's failure, unless that was the pause interrupting it: then the error the
 * rack's heartbeats carried over from the attempt before (activities/rack PowerHeartbeat). */
export function bmcErrorOf(a: PendingActivity): string {
  const failure = a.lastFailure;
  if (failure?.message && failure.applicationFailureInfo?.type !== PAUSE_FAILURE) return failure.message;
  const payload = a.heartbeatDetails?.payloads?.[0];
  if (!payload) return '';
  try {
    const details = defaultPayloadConverter.fromPayload<PowerHeartbeat | string>(payload as never);
    return typeof details === 'object' && details?.lastBmcError ? details.lastBmcError : '';
  } catch {
    return '';
  }
}
