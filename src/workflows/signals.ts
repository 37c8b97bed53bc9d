// The machine's own reports, buffered so a report that arrives before the workflow waits is kept.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { MACHINE_SIGNAL, type MachineSignal } from '../contracts/workflows';

export const machineSignal = defineSignal<[MachineSignal]>(MACHINE_SIGNAL);

export class MachineReports {
  private readonly inbox: MachineSignal[] = [];
  private heard = 0;

  constructor() {
    setHandler(machineSignal, (report) => {
      this.inbox.push(report);
      this.heard += 1;
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
      const woke = await condition(() => this.heard !== heardBefore, silenceMs);
      if (!woke) return undefined;
    }
  }
}
