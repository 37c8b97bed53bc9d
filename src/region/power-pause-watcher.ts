// While an operator has paused a machine's power step in Temporal (a BMC that is down), the
// machine's status_message says so, with the BMC's last error; once it is unpaused or reset (or
// the operation ends), the message goes. Temporal records no event for a pause, and a step paused
// between attempts runs no code anywhere, so the region looks: every few seconds it lists the
// paused power steps (temporal/paused-power-steps.ts) and writes the messages. One region process
// at a time does a pass (the others skip it), and its writes are guarded against what changed
// while it listed (services/power-pause-messages.ts).
import type { DataSource } from 'typeorm';
import type { RackActivities } from '../contracts/activities';
import { PowerPauseMessagesService } from './services/power-pause-messages';
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
  private readonly messages: PowerPauseMessagesService;

  constructor(
    db: DataSource,
    private readonly paused: PausedPowerSteps,
    private readonly log: (line: string) => void,
  ) {
    this.messages = new PowerPauseMessagesService(db);
  }

  /**
   * One pass: returns the workflow IDs whose machines now say they are paused, or undefined when
   * another region process is doing this pass.
   */
  sweep(): Promise<string[] | undefined> {
    return this.messages.exclusively(async (pass) => {
      // Nothing in an operation, nothing to say or clear: Temporal is not asked.
      if (pass.before.size === 0) return [];
      const { steps, complete } = await this.paused.list(PAUSED_LIST_LIMIT);
      for (const step of steps) await pass.setPaused(step.workflowId, pausedMessage(step));
      const workflowIds = steps.map((s) => s.workflowId);
      if (complete) await pass.clearOthers(PAUSED_MARK, workflowIds);
      else this.log(`power pause watcher: more than ${PAUSED_LIST_LIMIT} paused workflows; clearing skipped`);
      return workflowIds;
    });
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
