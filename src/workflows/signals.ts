// The machine's own reports, buffered so a report that arrives before the workflow waits is kept.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { MACHINE_SIGNAL, type MachineSignal } from '../contracts/workflows';

export const machineSignal = defineSignal<[MachineSignal]>(MACHINE_SIGNAL);

export class MachineReports {
  private readonly inbox: MachineSignal[] = [];
  private heard = 0;
  /** Reports that are more than a sign of life (anything but `progress`): what ends a wait early. */
  private decisive = 0;
  /** The silence allowed by the wait under way, which a progress report moves `waitingUntil` by. */
  waitingSilenceMs: number | undefined;
  /**
   * How long ago the machine last reported as the region knows it (its progress reports are kept
   * there, not signalled): set by a frame since LEANER_HISTORY_PATCH, whose waits then read it when
   * their deadline comes instead of waking for every report.
   */
  private lastReportAge: (() => Promise<number | null>) | undefined;

  /** When the machine last signalled (workflow time, ms since the epoch), for the step query. */
  lastHeardAt: number | undefined;
  /** When the current wait for the machine times out, while one is under way (the step query's deadline). */
  waitingUntil: number | undefined;

  constructor() {
    setHandler(machineSignal, (report) => {
      this.inbox.push(report);
      this.heard += 1;
      if (report.kind !== 'progress') this.decisive += 1;
      this.lastHeardAt = Date.now();
      // The step query's deadline: counted from now (no command; histories replay unchanged).
      if (this.waitingUntil !== undefined && this.waitingSilenceMs !== undefined)
        this.waitingUntil = Math.max(this.waitingUntil, this.lastHeardAt + this.waitingSilenceMs);
    });
  }

  /** Since LEANER_HISTORY_PATCH (OperationFrame): waits read the machine's last report's age (ms) from `source`. */
  readLastReportFrom(source: () => Promise<number | null>): void {
    this.lastReportAge = source;
  }

  /** Drop the reports received so far (a retry from Temporal waits for the machine's new ones). */
  forget(): void {
    this.inbox.length = 0;
  }

  /**
   * Wait for a report matching `wanted`. The deadline counts from the last time the machine was
   * heard from (MAAS: "not heard from within node_timeout"), so progress reports extend it.
   * Returns undefined when the machine went silent for `silenceMs`.
   */
  async waitFor(wanted: (r: MachineSignal) => boolean, silenceMs: number): Promise<MachineSignal | undefined> {
    for (;;) {
      const index = this.inbox.findIndex(wanted);
      if (index >= 0) return this.inbox.splice(index, 1)[0];
      // Progress reports only prove the machine is alive; they have done their job. Other
      // reports stay for a later step that waits for them.
      for (let i = this.inbox.length - 1; i >= 0; i--) if (this.inbox[i]!.kind === 'progress') this.inbox.splice(i, 1);
      this.waitingUntil = Date.now() + silenceMs;
      this.waitingSilenceMs = silenceMs;
      let woke: boolean;
      try {
        woke = this.lastReportAge
          ? await this.untilDecisive(wanted, silenceMs, this.lastReportAge)
          : await this.untilHeard(silenceMs);
      } finally {
        this.waitingUntil = undefined;
        this.waitingSilenceMs = undefined;
      }
      if (!woke) return undefined;
    }
  }

  /** Before LEANER_HISTORY_PATCH: every report ends the wait (a progress report restarts its timer). */
  private untilHeard(silenceMs: number): Promise<boolean> {
    const heardBefore = this.heard;
    // The timer's summary is UI metadata, not part of the command: histories replay unchanged.
    return condition(() => this.heard !== heardBefore, silenceMs, {
      summary: `Wait up to ${duration(silenceMs)} for the machine to report`,
    });
  }

  /**
   * Since LEANER_HISTORY_PATCH: a progress report ends the wait only when the runbook waits for
   * it (commissioning's TESTING); the others do not (the region keeps them rather than signalling
   * them; one signalled all the same, e.g. while the start was owed, only moves the deadline).
   * When the timer fires, the wait goes on until `silenceMs` after the machine last reported, as
   * the region knows it. False once the machine has been silent that long; true when a report to
   * look at came.
   */
  private async untilDecisive(
    wanted: (r: MachineSignal) => boolean,
    silenceMs: number,
    lastReportAge: () => Promise<number | null>,
  ): Promise<boolean> {
    const before = this.decisive;
    let remaining = silenceMs;
    for (;;) {
      if (
        await condition(() => this.decisive !== before || this.inbox.some(wanted), remaining, {
          summary: `Wait up to ${duration(remaining)} for the machine to report`,
        })
      )
        return true;
      // An age, subtracted from this workflow's time: the database's clock need not agree with it.
      const age = await lastReportAge();
      if (age !== null && Date.now() - age > (this.lastHeardAt ?? 0)) this.lastHeardAt = Date.now() - age;
      remaining = (this.lastHeardAt ?? 0) + silenceMs - Date.now();
      if (remaining <= 0) return false;
      if (this.waitingUntil !== undefined) this.waitingUntil = Date.now() + remaining;
    }
  }
}

function duration(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
