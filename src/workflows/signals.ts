// The machine's own reports, buffered so a report that arrives before the workflow waits is kept.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { MACHINE_SIGNAL, type MachineSignal } from '../contracts/workflows';

export const machineSignal = defineSignal<[MachineSignal]>(MACHINE_SIGNAL);

export class MachineReports {
  private readonly inbox: MachineSignal[] = [];
  private heard = 0;
  /** When the machine last signalled (workflow time, ms since the epoch), for the step query. */
  lastHeardAt: number | undefined;
  /** When the current wait for the machine times out, while one is under way (the step query's deadline). */
  waitingUntil: number | undefined;

  constructor() {
    setHandler(machineSignal, (report) => {
      this.inbox.push(report);
      this.heard += 1;
      this.lastHeardAt = Date.now();
    });
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
      const heardBefore = this.heard;
      this.waitingUntil = Date.now() + silenceMs;
      let woke: boolean;
      try {
        // The timer's summary is UI metadata, not part of the command: histories replay unchanged.
        woke = await condition(() => this.heard !== heardBefore, silenceMs, {
          summary: `Wait up to ${duration(silenceMs)} for the machine to report`,
        });
      } finally {
        this.waitingUntil = undefined;
      }
      if (!woke) return undefined;
    }
  }
}

function duration(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
