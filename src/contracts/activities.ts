// Activity interfaces: what workflows may ask of the region (database) and of a rack (hardware).
// Workflows proxy these types; src/activities implements them. Every activity is idempotent
// because Temporal runs an activity again after a crash or a timeout.

import type { EraseMode } from './boot';
import type { MachineStatus } from './lifecycle';
import type { BootPurpose, PowerState } from './workflows';

export interface EventInput {
  systemId: string;
  /** MAAS event type name, e.g. "Commissioning", "Powering on", "Failed commissioning". */
  type: string;
  description: string;
  level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'AUDIT';
  /** Makes the event idempotent: a retried activity does not record it twice. */
  dedupeKey: string;
}

export interface TransitionInput {
  systemId: string;
  workflowId: string;
  to: MachineStatus;
  message: string;
  /**
   * Only apply while the machine is still driven by this workflow and in one of these statuses;
   * otherwise the workflow lost its claim (an operator moved the machine on) and nothing changes.
   */
  expectFrom: MachineStatus[];
  /**
   * The token of the API's start that launched this workflow (LifecycleStart.claimToken). A
   * machine that carries it but is not claimed by this workflow was released after the API's
   * commit (mark_broken, abort): beginTransition then leaves it alone instead of re-applying the
   * transition, which it does only when the commit was lost (the machine carries another token).
   */
  claimToken?: string;
  /**
   * The workflow's run chain (Temporal's original run ID, which a reset keeps): beginTransition
   * records it on the machine it claims, so a reset run of this workflow can reclaim it later.
   */
  chainId?: string;
  /**
   * The workflow reads the machine's last report when its deadline comes (lastReportAge), so the
   * region need not signal it progress reports (workflows since LEANER_HISTORY_PATCH). Absent
   * (earlier workflows): every report is signalled, as they need.
   */
  quietProgress?: boolean;
  /**
   * The runbook's opening netboot (since the lean-open patch): its announcements, and the purpose
   * of the boot it powers on into, recorded in the claim's transaction when the claim applies, as
   * recordEvents would record them just after it (one local activity fewer per operation).
   */
  opening?: OpeningNetboot;
}

/** The next netboot's purpose; `erase` (release) makes commissioning erase the disks instead. */
export interface NextNetboot {
  purpose: BootPurpose;
  erase?: EraseMode;
}

/**
 * Several events of one machine, and (a netboot's power-on, since the lean-finish patch) the next
 * netboot's purpose, as setBootPurpose sets it.
 */
export interface RecordEventsInput {
  systemId: string;
  events: Omit<EventInput, 'systemId'>[];
  netboot?: NextNetboot;
}

/** A netboot's announcements and the next boot's purpose: recordEvents' input, less the machine. */
export type OpeningNetboot = Required<Omit<RecordEventsInput, 'systemId'>>;

/** A reset run of a lifecycle workflow asks for the machine back (`temporal workflow reset`). */
export interface ResumeInput {
  systemId: string;
  workflowId: string;
  /** The run chain the machine must still carry (TransitionInput.chainId). */
  chainId: string;
  /**
   * The API start's token (LifecycleStart.claimToken): a run ended before its first step recorded
   * the chain still holds the machine by it.
   */
  claimToken?: string;
  /** This run: echoed in the result, so a later reset's replay can tell an earlier run's resume from its own. */
  runId: string;
  /** MAAS event type of the operation, e.g. "Commissioning". */
  operation: string;
  /** The operation's in-progress status, where the machine goes back to. */
  to: MachineStatus;
  /** Where the workflow may have left it: the operation's failure and abort statuses. */
  leftIn: MachineStatus[];
  /**
   * The operation's start statuses: where the table has no edge back (Failed deployment ->
   * Deploying), the machine goes through one of these first, as a new start would (Allocated).
   */
  startFrom: MachineStatus[];
  /**
   * Registration of a deployed machine: no claim; the machine must still be DEPLOYED as
   * registered (the status it was created in, unchanged since).
   */
  registration?: boolean;
}

export interface PowerOutcomeInput {
  systemId: string;
  state: PowerState;
  events: Omit<EventInput, 'systemId'>[];
  statusMessage?: { workflowId: string; message: string };
}

/**
 * finishTransition's input. `powerOutcome`: the runbook's last step was a power-off whose outcome
 * (its state and the events that tell it, what recordPowerOutcome records for a power-off) is
 * recorded in the same transaction, before the status change, whether or not the transition
 * still applies (since the lean-close patch: one local activity fewer per commissioning or test).
 */
export interface FinishInput extends TransitionInput {
  powerOutcome?: Pick<PowerOutcomeInput, 'state' | 'events'>;
}

export interface ResumeResult {
  /** false: the machine moved on; `reason` says how, and nothing was changed. */
  applied: boolean;
  status: MachineStatus;
  reason: string;
  /** ResumeInput.runId, as recorded in the history. */
  runId: string;
}

export interface TransitionResult {
  applied: boolean;
  status: MachineStatus;
}

export interface RegionActivities {
  /**
   * Claim the machine for this workflow and move it to the workflow's in-progress status. A claim
   * given up on while it waited (its workflow cancelled it, or its attempt timed out) writes
   * nothing and ends cancelled.
   */
  beginTransition(input: TransitionInput): Promise<TransitionResult>;
  /** Record the workflow's outcome and release the machine from it. */
  finishTransition(input: FinishInput): Promise<TransitionResult>;
  /**
   * A reset run's claim: back to the operation's in-progress status, only while the machine is
   * where this workflow's run chain left it; records "Retried from Temporal (reset to …)".
   */
  resumeOperation(input: ResumeInput): Promise<ResumeResult>;
  recordEvent(input: EventInput): Promise<void>;
  /**
   * Several events of one machine in one statement (a power step's announcements); with `netboot`
   * (a netboot's power-on, since the lean-finish patch) the next netboot's purpose too, as
   * setBootPurpose sets it.
   */
  recordEvents(input: RecordEventsInput): Promise<void>;
  /**
   * What a power action ended in, with the events that say so, in one transaction: the power
   * state, its events, and (while the machine stays claimed by `statusMessage.workflowId`) the
   * status_message a manual machine's operator reads.
   */
  recordPowerOutcome(input: PowerOutcomeInput): Promise<void>;
  /** The next netboot's purpose (NextNetboot). */
  setBootPurpose(input: { systemId: string } & NextNetboot): Promise<void>;
  recordPowerState(input: { systemId: string; state: PowerState }): Promise<void>;
  /**
   * Set status_message while the machine stays claimed by this workflow (e.g. what the operator
   * of a manual machine must do); changes nothing once another workflow or an operator has it.
   */
  setStatusMessage(input: { systemId: string; workflowId: string; message: string }): Promise<void>;
  /** READY when the machine has passed commissioning, else NEW (MAAS's release destination). */
  releaseDestination(input: { systemId: string }): Promise<MachineStatus>;
  /** Release's cleanup: annotations, owner, deployment fields, lock; VLAN/bridge/bond interfaces. */
  clearWorkloadAnnotations(input: { systemId: string }): Promise<void>;
  /**
   * How long ago (ms) the machine last sent a progress report the region kept for its quiet
   * workflow instead of signalling it; null when none was kept (or the machine is gone).
   */
  lastReportAge(input: { systemId: string }): Promise<number | null>;
}

/** Retry or give up: a wrong BMC password is fatal, a BMC that does not answer is worth retrying. */
export const POWER_FATAL_ERROR = 'PowerFatalError';

/** What a power action did. */
export interface PowerActionResult {
  /** The power state the driver ended with ('unknown' when it cannot tell). */
  state: PowerState;
  /**
   * The rack cannot act on this machine itself (power type manual): an operator must press the
   * button. The workflow tells them (event, status_message) and waits for the machine as usual.
   */
  byHand?: boolean;
}

/** A power activity's input. */
export interface PowerInput {
  systemId: string;
  /**
   * The activity's retry policy retries the BMC (a lifecycle workflow's power step): one BMC
   * attempt per activity attempt, a retryable failure thrown for Temporal to retry. Absent (the
   * API's power calls, which answer within a bound): the driver retries on MAAS's schedule itself.
   */
  retriedByTemporal?: boolean;
}

/** powerOn's input: a lifecycle workflow's netboot has the rack prepare the boot first, in the same activity. */
export interface PowerOnInput extends PowerInput {
  /**
   * Fetch and cache the machine's boot configuration (prepareBoot) before the BMC is told
   * anything: one activity task for both (workflows since LEANER_HISTORY_PATCH).
   */
  prepareBoot?: BootPurpose;
}

/** What a paused power activity's heartbeat details carry (the region's pause watcher reads them). */
export interface PowerHeartbeat {
  step: string;
  /** The BMC's last error of an earlier attempt, for the operator who pauses a failing BMC. */
  lastBmcError?: string;
  /**
   * An earlier attempt of this power-on sent the BMC its `on` (or cycle): a retry that finds the
   * machine on leaves it be rather than cycling a machine that is booting because of it.
   */
  onIssued?: boolean;
}

export interface RackActivities {
  /** Set next boot to PXE (once) and power on; cycles a machine that is already on. */
  powerOn(input: PowerOnInput): Promise<PowerActionResult>;
  powerOff(input: PowerInput): Promise<PowerActionResult>;
  powerCycle(input: PowerInput): Promise<PowerActionResult>;
  queryPower(input: PowerInput): Promise<PowerState>;
  /** Fetch and cache the machine's boot configuration so its next PXE boot gets it. */
  prepareBoot(input: { systemId: string; purpose: BootPurpose }): Promise<void>;
}
