// The runbook's opening netboot, announced with the claim since LEAN_OPEN_PATCH (frame-patches.ts):
// the claim's local activity records what the power-on's own would have recorded just after it.
import type { OpeningNetboot } from '../contracts/activities';
import type { NetbootStep, NextEvent, AnnouncedNetboot } from './frame-plan';
import { POWER_STARTING, startingWords } from './power-events';

/** What a power step announces before the BMC is asked: the runbook's words, if any, then its own. */
export function powerAnnouncements(
  nextEvent: NextEvent,
  action: 'on' | 'off',
  hostname: string,
  announce: string | undefined,
): ReturnType<NextEvent>[] {
  return [
    ...(announce === undefined ? [] : [nextEvent(announce, 'INFO')]),
    nextEvent(startingWords(action, hostname), 'INFO', POWER_STARTING[action]),
  ];
}

export class Opening {
  /** Announced with the claim, not yet powered on. */
  private announced: AnnouncedNetboot | undefined;

  /**
   * The claim's `opening`: the netboot's events, numbered as its power step would number them
   * (they are the run's first events), and its boot purpose.
   */
  claimWith(step: AnnouncedNetboot, hostname: string, nextEvent: NextEvent): OpeningNetboot {
    this.announced = step;
    return {
      events: powerAnnouncements(nextEvent, 'on', hostname, step.announce),
      netboot: { purpose: step.purpose, ...(step.erase ? { erase: step.erase } : {}) },
    };
  }

  /**
   * The runbook stopped before its opening power-on (a cancel while the claim ran): the power step
   * that follows (the stop's power-off) is not the opening and announces itself.
   */
  forget(): void {
    this.announced = undefined;
  }

  /**
   * Whether this power-on's announcements went with the claim (once: a later netboot announces its
   * own). A first power step that is not the plan's opening is a workflow bug, refused at once.
   */
  take(action: 'on' | 'off', announce: string | undefined, netboot: NetbootStep | undefined): boolean {
    const step = this.announced;
    if (!step) return false;
    this.announced = undefined;
    const same =
      action === 'on' &&
      announce === step.announce &&
      netboot?.purpose === step.purpose &&
      netboot.erase === step.erase;
    if (!same)
      throw new Error(`The runbook's first power step is not the opening netboot its plan names (${step.announce})`);
    return true;
  }
}
