// The frame every lifecycle workflow runs in: claim the machine, run the runbook, record the
// outcome. Failures and timeouts leave MAAS's failure status with the reason; a cancellation
// (API abort or `temporal workflow cancel`) powers the machine off and leaves MAAS's abort status,
// in a scope that cannot itself be cancelled.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  setHandler,
  defineQuery,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  EventInput,
  OpeningNetboot,
  PowerActionResult,
  PowerOutcomeInput,
  RegionActivities,
} from '../contracts/activities';
import { type LifecycleOperation, type MachineStatus, labelOf } from '../contracts/lifecycle';
import { SearchAttribute, STEP_QUERY, type LifecycleOutcome, type OperationStep } from '../contracts/workflows';
import { region, regionLocal } from './activities';
import { powerWithEventSteps, powerWithoutEvents } from './frame-legacy-power';
import type { FramePlan, NetbootStep } from './frame-plan';
import { isResetRefused, ResetClaim } from './reset';
import { failureMessage, operationFailed } from './failures';
import { framePatches, POWER_EVENTS_PATCH } from './frame-patches';
import { Opening } from './frame-opening';
import { powerInOneWrite, type PowerStepFrame } from './frame-power';
import { identityAttributes, upsertAttributes } from './search-attributes';
import { statusesOf } from './operation-plan';

const stepQuery = defineQuery<OperationStep>(STEP_QUERY);
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export class OperationFrame {
  private step = 'starting';
  private events = 0;
  /** The closing power-off's outcome (powerOffToClose), recorded with the run's (finish) or before any other write. */
  private closingPower: Pick<PowerOutcomeInput, 'state' | 'events'> | undefined;
  /** The opening netboot announced with the claim (LEAN_OPEN_PATCH). */
  private readonly opening = new Opening();
  private readonly workflowId = workflowInfo().workflowId;
  /** The frame's patches this run has (frame-patches.ts), decided once before its first command. */
  readonly has = framePatches();
  /** A reset run's claim on the machine (`temporal workflow reset` is a retry: workflows/reset.ts). */
  private readonly resetClaim = new ResetClaim(() => ({
    systemId: this.plan.systemId,
    workflowId: this.workflowId,
    operation: this.plan.operation,
    to: this.plan.inProgress,
    leftIn: [...new Set([this.plan.failTo, this.plan.abortTo])],
    startFrom: this.plan.expectFrom,
    ...(this.plan.claimToken === undefined ? {} : { claimToken: this.plan.claimToken }),
  }));

  constructor(private plan: FramePlan) {
    if (this.has.leaner)
      plan.reports?.readLastReportFrom(() => regionLocal.lastReportAge({ systemId: this.plan.systemId }));
    setHandler(stepQuery, () => ({
      step: this.step,
      deadline: iso(this.plan.reports?.waitingUntil),
      lastHeardAt: iso(this.plan.reports?.lastHeardAt),
      ...(this.plan.reports?.waitingSilenceMs === undefined ? {} : { silenceMs: this.plan.reports.waitingSilenceMs }),
    }));
  }

  /**
   * Before a step that acts on the machine: a closing power-off's outcome still waiting is
   * recorded first, and a reset run reclaims the machine. Runbook steps that act without the frame
   * (boot purpose, the rack's boot config) call it; so do the frame's events, power steps and
   * advance (finish records that outcome itself).
   */
  async reclaimIfReset(): Promise<void> {
    if (this.closingPower) await this.recordClosingPower();
    await this.resetClaim.reclaim();
  }

  /**
   * A retry waits for fresh reports: Temporal reapplies the signals after the reset point (the
   * machine's FAILED included), so the runbook's reports from before the resume are dropped.
   */
  onRetry(fn: () => void): void {
    this.resetClaim.whenResumed(fn);
  }

  /**
   * The region's database activities for this workflow's steps: local activities since
   * FEWER_ROUND_TRIPS_PATCH, task-queue activities in workflows started before it.
   */
  get db(): RegionActivities {
    return this.has.fewerTrips ? regionLocal : region;
  }

  /** Record where in the runbook the workflow is: visible to `temporal workflow query`. */
  at(step: string): void {
    this.step = step;
  }

  async event(
    description: string,
    level: 'INFO' | 'WARNING' | 'ERROR' = 'INFO',
    type = this.plan.operation,
  ): Promise<void> {
    await this.reclaimIfReset();
    await this.db.recordEvent({ systemId: this.plan.systemId, ...this.nextEvent(description, level, type) });
  }

  private nextEvent(
    description: string,
    level: EventInput['level'] = 'INFO',
    type = this.plan.operation,
  ): Omit<EventInput, 'systemId'> {
    const info = workflowInfo();
    // Retries of the same step in the same run must not record the event twice. The sequence
    // number is deterministic (workflow code replays in order), and lets a run record the same
    // words twice, e.g. the two power-offs of a release with erase.
    return { type, description, level, dedupeKey: `${info.workflowId}/${info.runId}/${++this.events}/${type}` };
  }

  /**
   * A power action through the machine's rack, with MAAS's events: "Powering on" before; after,
   * "Node powered on" with the state the BMC reports, or, for a machine an operator powers
   * (manual), what they must do (a power-on also says so in status_message while the machine is
   * waited for). A failure records "Failed to power on node" (ERROR) with the BMC's reason and is
   * rethrown: the frame turns it into the failure status, whose event is the status change.
   * Powering on sets the next boot to PXE first (the rack's powerOn), unless the region says the
   * machine must not netboot (no known MAC, not commissioning). `announce`: the runbook's own
   * event before the power step ("Powering on to commission."). `netboot` (a netboot's power-on,
   * since LEANER_HISTORY_PATCH): the rack prepares that boot; since LEAN_FINISH_PATCH the boot
   * purpose is recorded with the announcements, in their local activity, and since
   * LEAN_OPEN_PATCH the runbook's opening netboot's are recorded with the claim (run()).
   * `closing` (the runbook's last power-off, since LEAN_CLOSE_PATCH): its outcome waits for the
   * run's (finish).
   */
  async power(
    action: 'on' | 'off',
    announce?: string,
    netboot?: NetbootStep,
    closing = false,
  ): Promise<PowerActionResult> {
    const { systemId, hostname, rackQueue } = this.plan;
    if (announce !== undefined && !this.has.fewerTrips) await this.event(announce);
    if (!rackQueue) throw operationFailed(`No rack controller can reach ${hostname} to power it ${action}.`);
    if (netboot !== undefined && !this.has.fewerTrips)
      // LEANER_HISTORY_PATCH implies FEWER_ROUND_TRIPS_PATCH (both decided at a run's start); a
      // boot preparation the paths below would drop must not pass silently.
      throw new Error('a netboot with the power-on needs FEWER_ROUND_TRIPS_PATCH');
    if (!this.powerEvents()) return powerWithoutEvents({ systemId, rackQueue }, action);
    if (this.has.fewerTrips) {
      const step = await powerInOneWrite(this.powerStepFrame(rackQueue), action, announce, netboot, closing);
      if (step.closing) this.closingPower = step.closing;
      return step.result;
    }
    return powerWithEventSteps(
      {
        systemId,
        hostname,
        rackQueue,
        ...(this.plan.powerWithinMs === undefined ? {} : { powerWithinMs: this.plan.powerWithinMs }),
        workflowId: this.workflowId,
        event: (description, level, type) => this.event(description, level, type),
      },
      action,
    );
  }

  /**
   * The runbook's last step, a power-off: since LEAN_CLOSE_PATCH its outcome is recorded with the
   * run's, in finish's local activity (a failed power-off's at once, as power() records it).
   */
  async powerOffToClose(): Promise<void> {
    await this.power('off', undefined, undefined, this.has.leanClose);
  }

  /** What a power step since FEWER_ROUND_TRIPS_PATCH needs of the frame (frame-power.ts). */
  private powerStepFrame(rackQueue: string): PowerStepFrame {
    return {
      ...this.plan,
      rackQueue,
      workflowId: this.workflowId,
      bootPurposeWithAnnouncements: this.has.leanFinish,
      opening: this.opening,
      nextEvent: (d, l, t) => this.nextEvent(d, l, t),
      reclaimIfReset: () => this.reclaimIfReset(),
      reclaim: () => this.resetClaim.reclaim(),
    };
  }

  /** The closing power-off's outcome, before a write that is not the run's outcome. */
  private async recordClosingPower(): Promise<void> {
    const outcome = this.closingPower!;
    this.closingPower = undefined;
    await regionLocal.recordPowerOutcome({ systemId: this.plan.systemId, ...outcome });
  }

  /** POWER_EVENTS_PATCH, which a LEAN_START_PATCH run has without asking (its first power step asks otherwise). */
  private powerEvents(): boolean {
    return this.has.leanStart || patched(POWER_EVENTS_PATCH);
  }

  /**
   * The claim's activities (beginTransition, an advance's): local since LEAN_START_PATCH, a
   * task-queue activity in workflows started before it.
   */
  private get claims(): RegionActivities {
    return this.has.leanStart ? regionLocal : region;
  }

  async run(runbook: () => Promise<LifecycleOutcome>): Promise<LifecycleOutcome> {
    const { systemId } = this.plan;
    this.upsert(this.identity());
    let claimed = false;
    let outcome: LifecycleOutcome;
    try {
      // A reset to the first workflow task starts here: the machine back first, then the claim.
      await this.resetClaim.reclaim();
      // Claiming is inside the try: a cancellation that arrives before the first step still
      // gets the cleanup (the API already moved the machine to the in-progress status).
      const claim = await this.claims.beginTransition({
        systemId,
        workflowId: this.workflowId,
        to: this.plan.inProgress,
        message: '',
        expectFrom: this.plan.expectFrom,
        claimToken: this.plan.claimToken,
        chainId: this.resetClaim.chainId,
        ...this.hearing(),
        ...this.openingWithClaim(),
      });
      this.markStatus(claim.status);
      if (!claim.applied) {
        throw ApplicationFailure.nonRetryable(
          `Machine ${systemId} is ${labelOf(claim.status)}, not ready for ${this.plan.operation.toLowerCase()}.`,
          'NotClaimed',
        );
      }
      claimed = true;
      outcome = await runbook();
      if (this.has.leanFinish) {
        // The local outcome shares the workflow task that completes the run: a cancel arriving
        // meanwhile makes Temporal refuse that completion, and the task runs again with the cancel.
        // The outcome is recorded by then (finishTransition is idempotent), so it must not turn
        // into the abort's cleanup (powering off a machine just deployed): the run completes.
        await CancellationScope.nonCancellable(() => this.finish(outcome, regionLocal));
      } else await this.finish(outcome, region);
    } catch (err) {
      // A reset run refused its machine (it moved on): nothing here may touch it, not even cleanup.
      if (isResetRefused(err)) throw err;
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(() =>
          this.stop(this.plan.abortTo, `Aborted ${this.plan.operation.toLowerCase()}.`),
        );
        throw err;
      }
      if (!claimed) throw err;
      const reason = failureMessage(err);
      await CancellationScope.nonCancellable(() => this.stop(this.plan.failTo, reason));
      outcome = { status: this.plan.failTo, message: reason };
    }
    // A reset to the workflow task that recorded the outcome (`--type LastWorkflowTask` of a failed
    // run): the machine is back in the in-progress status, and the operation runs again.
    if (await this.resetClaim.reclaim()) return this.run(runbook);
    return outcome;
  }

  /** Take over a machine whose workflow is gone, and stop it the way a cancellation would. */
  async runAbort(message: string, to: MachineStatus): Promise<LifecycleOutcome> {
    this.upsert(this.identity());
    const claimed = await region.beginTransition({
      systemId: this.plan.systemId,
      workflowId: this.workflowId,
      to: this.plan.inProgress,
      message: '',
      expectFrom: this.plan.expectFrom,
    });
    this.markStatus(claimed.status);
    if (!claimed.applied) return { status: claimed.status, message: 'Nothing to abort.' };
    await CancellationScope.nonCancellable(() => this.stop(to, message));
    return { status: to, message };
  }

  /** Move on to the next operation of the same workflow (releasing → disk erasing). */
  async advance(op: LifecycleOperation): Promise<void> {
    await this.reclaimIfReset();
    const next = statusesOf(op);
    const result = await this.claims.beginTransition({
      systemId: this.plan.systemId,
      workflowId: this.workflowId,
      to: next.inProgress,
      message: '',
      expectFrom: next.expectFrom,
      claimToken: this.plan.claimToken,
      ...this.hearing(),
    });
    this.markStatus(result.status);
    if (!result.applied)
      throw operationFailed(`Machine left ${labelOf(this.plan.inProgress)} while ${next.operation.toLowerCase()}.`);
    this.plan = { ...this.plan, ...next };
  }

  private async stop(to: MachineStatus, message: string): Promise<void> {
    this.at(`stopping: ${message}`);
    // A cancel that came before the opening netboot's power-on: its power-off announces itself.
    this.opening.forget();
    if (this.plan.powerOffOnStop && this.plan.rackQueue) {
      if (this.powerEvents()) {
        // A failure is already an ERROR event ("Failed to power off node"); the stop goes on.
        await this.power('off').catch(() => undefined);
      } else {
        try {
          await powerWithoutEvents({ systemId: this.plan.systemId, rackQueue: this.plan.rackQueue }, 'off');
        } catch (err) {
          await this.event(`Could not power off: ${failureMessage(err)}`, 'WARNING');
        }
      }
    }
    await this.finish({ status: to, message }, region);
  }

  /**
   * Record the outcome. `via`: a failure's or an abort's is a task-queue activity even since
   * FEWER_ROUND_TRIPS_PATCH: the workflow task after it is the one that recorded the outcome, so
   * `temporal workflow reset --type LastWorkflowTask` of a failed run lands after it and runs the
   * operation again (run()); as a local activity it would share a task with the power-off before
   * it, and the reset would only record it again. A success's is local since LEAN_FINISH_PATCH:
   * a reset of a succeeded run is refused whichever task it lands in (its machine moved on).
   */
  private async finish(outcome: LifecycleOutcome, via: RegionActivities): Promise<void> {
    await this.resetClaim.reclaim();
    const powerOutcome = this.closingPower;
    const result = await via.finishTransition({
      systemId: this.plan.systemId,
      workflowId: this.workflowId,
      to: outcome.status,
      message: outcome.message,
      expectFrom: [this.plan.inProgress],
      ...(powerOutcome ? { powerOutcome } : {}),
    });
    // Recorded with it; a finish that failed leaves it to the stop's power-off, which records it first.
    this.closingPower = undefined;
    // finishTransition records the status change as the machine's event.
    this.markStatus(result.status);
    this.at(`done: ${labelOf(outcome.status)}`);
  }

  /** The search attributes that find this workflow (search-attributes.ts). */
  private identity(): Record<string, string[]> {
    return identityAttributes(this.plan);
  }

  /**
   * The opening netboot's announcements and boot purpose, for the claim to record (LEAN_OPEN_PATCH);
   * not when no rack can power the machine on (the power step fails before announcing anything).
   */
  private openingWithClaim(): { opening?: OpeningNetboot } {
    const { opensWith, hostname, rackQueue } = this.plan;
    if (!this.has.leanOpen || !opensWith || !rackQueue) return {};
    return { opening: this.opening.claimWith(opensWith, hostname, (d, l, t) => this.nextEvent(d, l, t)) };
  }

  /** A claim's word on how this workflow hears of the machine's progress (TransitionInput.quietProgress). */
  private hearing(): { quietProgress?: true } {
    return this.has.leaner && this.plan.reports ? { quietProgress: true } : {};
  }

  markStatus(status: MachineStatus): void {
    this.upsert({ [SearchAttribute.machineStatus]: [labelOf(status)] });
  }

  /** Since LEANER_HISTORY_PATCH only what the run does not have yet (search-attributes.ts). */
  private upsert(attributes: Record<string, string[]>): void {
    upsertAttributes(attributes, this.has.leaner);
  }
}
