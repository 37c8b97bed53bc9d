// While an operator has paused a machine's power step in Temporal (a BMC that is down), the
// machine's status_message says so, with the BMC's last error; once it is unpaused or reset (or
// the operation ends), the message goes. Temporal records no event for a pause, and a step paused
// between attempts runs no code anywhere, so the region looks: every few seconds it lists the
// paused power steps (temporal/paused-power-steps.ts) and writes the messages. Idempotent: two
// region processes doing it at once write the same thing.
import type { DataSource } from 'typeorm';
import type { RackActivities } from '../contracts/activities';
import { OPERATION_STATUSES } from '../contracts/lifecycle';
import type { PausedPowerStep, PausedPowerSteps } from './temporal/paused-power-steps';

/** What marks a status_message this watcher wrote, so it clears only its own. */
export const PAUSED_MARK = 'paused by an operator in Temporal';

/** The most paused workflows one pass looks at; past it the pass does not clear any message. */
export const PAUSED_LIST_LIMIT = 1000;

const ACTION: Record<keyof RackActivities, string> = {
  powerOn: 'Power on',
  powerOff: 'Power off',
  powerCycle: 'Power cycle',
  queryPower: 'Power query',
  prepareBoot: 'Boot preparation',
};

export function pausedMessage(step: Pick<PausedPowerStep, 'activityType' | 'bmcError'>): string {
  const bmc = step.bmcError ? `; BMC: ${step.bmcError}` : '';
  return `${ACTION[step.activityType]} ${PAUSED_MARK}${bmc}`;
}

export class PowerPauseWatcher {
  constructor(
    private readonly db: DataSource,
    private readonly paused: PausedPowerSteps,
    private readonly log: (line: string) => void,
  ) {}

  /** One pass: returns the workflow IDs whose machines now say they are paused. */
  async sweep(): Promise<string[]> {
    const { steps, complete } = await this.paused.list(PAUSED_LIST_LIMIT);
    for (const step of steps) {
      // Only a machine still claimed by that workflow, in an operation: never one that moved on.
      await this.db.query(
        `UPDATE machines SET status_message = $2
          WHERE workflow_id = $1 AND status = ANY($3::smallint[]) AND status_message IS DISTINCT FROM $2`,
        [step.workflowId, pausedMessage(step), OPERATION_STATUSES],
      );
    }
    const workflowIds = steps.map((s) => s.workflowId);
    if (complete) {
      await this.db.query(
        `UPDATE machines SET status_message = ''
          WHERE status_message LIKE '%' || $1 || '%' AND (workflow_id IS NULL OR workflow_id <> ALL($2::text[]))`,
        [PAUSED_MARK, workflowIds],
      );
    } else this.log(`power pause watcher: more than ${PAUSED_LIST_LIMIT} paused workflows; clearing skipped`);
    return workflowIds;
  }

  /** Run a pass every `intervalMs` until stopped. */
  start(intervalMs: number): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const loop = async () => {
      try {
        await this.sweep();
      } catch (err) {
        this.log(`power pause watcher: ${(err as Error).message}`);
      }
      if (!stopped) timer = setTimeout(loop, intervalMs);
    };
    timer = setTimeout(loop, intervalMs);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }
}
