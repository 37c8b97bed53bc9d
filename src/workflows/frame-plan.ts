// What a lifecycle workflow tells its operation frame (frame.ts): the machine, the operation's
// statuses (operation-plan.ts statusesOf) and how its power steps and cleanup behave.
import type { EventInput, NextNetboot } from '../contracts/activities';
import type { MachineStatus } from '../contracts/lifecycle';
import type { MachineReports } from './signals';

export interface FramePlan {
  systemId: string;
  hostname: string;
  rackQueue: string | null;
  /** MAAS event type for this operation, e.g. "Commissioning". */
  operation: string;
  inProgress: MachineStatus;
  expectFrom: MachineStatus[];
  /** Where a cancellation leaves the machine. */
  abortTo: MachineStatus;
  /** Where a failure or a timeout leaves the machine. */
  failTo: MachineStatus;
  /** Power the machine off when the operation fails or is aborted. */
  powerOffOnStop: boolean;
  /** The API's start that launched this workflow (LifecycleStart.claimToken); none for a take-over. */
  claimToken?: string;
  /** The owner's username (params.owner), for the Owner search attribute. */
  owner?: string;
  /** The machine's reports, whose waits and last signal the step query tells. */
  reports?: MachineReports;
  /** How long a power step may keep retrying the BMC: the operation's silence budget (activities.ts powerStepsOf). */
  powerWithinMs?: number;
  /**
   * The runbook's first step is this netboot (steps.ts netboot, with these words): since
   * LEAN_OPEN_PATCH its announcements and boot purpose are recorded with the claim (frame-opening.ts).
   */
  opensWith?: AnnouncedNetboot;
}

/** A netboot's power-on: the purpose (and erase mode) of the boot it powers on into. */
export type NetbootStep = NextNetboot;

/** A netboot and the runbook's own announcement before it ("Powering on to commission."). */
export interface AnnouncedNetboot extends NetbootStep {
  announce: string;
}

/** The frame's next event of this run, numbered for its dedupe key (OperationFrame.nextEvent). */
export type NextEvent = (
  description: string,
  level: EventInput['level'],
  type?: string,
) => Omit<EventInput, 'systemId'>;
