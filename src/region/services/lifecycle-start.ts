// A lifecycle operation's start (commission, deploy, release, test): the transition is checked
// and recorded with the workflow start it owes (services/workflow-starts.ts, an outbox), then the
// workflow is started after the commit: no row lock is held while Temporal answers, and a start
// Temporal could not take is completed by a repeated request or the reconciler. The request
// answers once the start is made or after a short wait (startWaitMs), whichever comes first: a
// slow start goes on in the background (background-starts.ts), and ends as a start after a 503
// would (its row is cleared, or left for a repeat or the reconciler). A start that fails within
// the wait, or any while Temporal is known to be away, still answers the 503 that says the request
// was recorded. The bulk operations start inside their transaction instead (startLocked): if
// Temporal refuses, nothing is written; if the commit fails after a start, the workflow's own
// first step re-applies the transition (only then: the claim token it carries tells that apart
// from an operator having released the claim).
import type { DataSource, EntityManager } from 'typeorm';
import type { Log } from '../../contracts/log';
import {
  assertTransition,
  labelOf,
  MachineStatus as S,
  type LifecycleOperation,
  operationIn,
} from '../../contracts/lifecycle';
import { lifecycleWorkflowId, WorkflowType, type Deadlines, type WorkflowParams } from '../../contracts/workflows';
import type { Machine } from '../db/entities';
import { ConflictError, FormValidationError, UnavailableError } from '../errors';
import { newClaimToken } from '../ids';
import { WORKFLOW_SERVICE_DOWN } from '../outages';
import { BackgroundStarts, settledWithin } from './background-starts';
import { assertMayUseMachine } from './machine-access';
import { operatorRef, type OperatorRef } from './operator-ref';
import type { Principal } from './principal';
import type { RackService } from './racks';
import { ensureScriptSet, RESULT_TYPE } from './scripts/script-sets';
import { assertSameRequest } from './start-repeats';
import { changeStatus, lockMachine } from './transitions';
import type { WorkflowGateway } from './workflow-gateway';
import {
  clearPendingStart,
  pendingStartOf,
  recordPendingStart,
  type PendingStart,
  type StartRequest,
} from './workflow-starts';

/** The workflows the API starts as lifecycle operations, and what each gets besides its options. */
export type LifecycleWorkflowType =
  typeof WorkflowType.commission | typeof WorkflowType.deploy | typeof WorkflowType.release | typeof WorkflowType.test;
export interface LifecycleStartRef extends OperatorRef {
  systemId: string;
  hostname: string;
  rackQueue: string;
  deadlines: Deadlines;
  claimToken: string;
}

/** The run's script sets beyond commissioning's, made with the transition (a 400 here writes nothing). */
export type ScriptSetsStep = (tx: EntityManager, m: Machine, claimToken: string) => Promise<void>;

/** What a start gives its workflow and the machine: the workflow's parameters, the machine's extra columns. */
export interface StartSteps<T extends LifecycleWorkflowType> {
  params: (m: Machine, ref: LifecycleStartRef) => Promise<WorkflowParams<T>>;
  extra: (m: Machine) => Partial<Machine>;
}

/** How long a request waits for its workflow's start before answering (METALFLOW_START_WAIT_MS). */
export const DEFAULT_START_WAIT_MS = 150;

export class LifecycleStarts {
  /** Starts whose request answered before they were made; region shutdown drains them. */
  private readonly background: BackgroundStarts;

  constructor(
    private readonly db: DataSource,
    private readonly workflows: WorkflowGateway,
    private readonly racks: RackService,
    private readonly deadlines: () => Promise<Deadlines>,
    private readonly startWaitMs = DEFAULT_START_WAIT_MS,
    private readonly log?: Log,
  ) {
    // A failed background start leaves its outbox row: the reconciler starts it (and says so), or
    // a repeated request does, exactly as after the 503 the request would have got.
    this.background = new BackgroundStarts((systemId, err) =>
      this.log?.(
        `workflow start after the request answered did not happen: ${err instanceof Error ? err.message : String(err)}; the reconciler or a repeated request starts it`,
        { level: 'warn', system_id: systemId, workflow_id: lifecycleWorkflowId(systemId) },
      ),
    );
  }

  /** Resolves once the machine's start still under way after its request answered (if any) has ended. */
  settled(systemId: string): Promise<void> {
    return this.background.settled(systemId);
  }

  /** Wait for the starts still going on after their requests answered (region shutdown, tests). */
  drain(): Promise<void> {
    return this.background.drain();
  }

  async start<T extends LifecycleWorkflowType>(
    systemId: string,
    op: LifecycleOperation,
    type: T,
    /** Who asks, the policy verb, and the request's effective parameters (a repeat must ask the same). */
    request: { caller: Principal; verb: string; asked: StartRequest },
    params: (m: Machine, ref: LifecycleStartRef) => Promise<WorkflowParams<T>>,
    extra: (m: Machine) => Partial<Machine>,
    /** Checks and steps in the transaction before the transition; null: nothing to do (a success). */
    prepare: (tx: EntityManager, m: Machine) => Promise<Machine | null> = async (_tx, m) => m,
    /** The run's script sets beyond commissioning's, made with the transition (a 400 here writes nothing). */
    scripts?: ScriptSetsStep,
  ): Promise<void> {
    // Two independent reads before the transaction, at once: under load each waits its turn for a
    // connection, so in turn they would add up.
    const [deadlines] = await Promise.all([this.deadlines(), this.refuseWhileEarlierRunCloses(systemId)]);
    // The status change and the start it owes commit together (an outbox row); the workflow is
    // started after the commit, so the machine's row lock is never held while Temporal answers.
    // A repeat that found the start still recorded: if that start turns out to be running already,
    // this request is a second one for an operation in progress and gets MAAS's refusal.
    let repeat = false;
    const start = await this.db.transaction(async (tx): Promise<PendingStart | null> => {
      const locked = await lockMachine(tx, systemId);
      // A repeated request (after a 503 that said the start was recorded) completes that start if
      // it asks the same. Looked up before `prepare`, whose answers for a machine already in the
      // operation (release: RELEASING is a success) would leave the start to the reconciler, and
      // whose steps (request events, allocation) the first request took already.
      if (locked.status === op.inProgress) {
        const pending = await pendingStartOf(tx, systemId);
        if (pending?.type === type) {
          await assertMayUseMachine(tx, request.caller, locked, request.verb);
          assertSameRequest(type, pending.request, request.asked);
          repeat = true;
          return pending;
        }
      }
      const m = await prepare(tx, locked);
      if (m === null) return null;
      const owed = await this.transitionLocked(tx, m, op, type, deadlines, { params, extra, scripts });
      const recorded = { ...owed, request: request.asked };
      await recordPendingStart(tx, m.id, recorded);
      return recorded;
    });
    if (!start) return;
    const attempt = this.completeStart(start, op);
    // From now on an abort or mark_broken of this machine waits for this start, not only once the
    // request has answered: one sent while the request still waits would race it too.
    this.background.inFlight(start.systemId, attempt);
    // A repeat waits for its start's outcome, as before the bounded wait: whether the start it
    // would complete was made already decides between a success and MAAS's refusal below.
    if (!repeat) return this.answerWithin(start, attempt);
    const outcome = await attempt;
    // Two requests at once (a double submit, or concurrent clients): the one that did not start
    // the operation is refused as MAAS refuses an operation on a machine already in it (release:
    // already releasing is its postcondition, a success), whoever made the start.
    if (outcome === 'running' && type !== WorkflowType.release)
      throw notStartable(type, { status: op.inProgress } as Machine);
  }

  /**
   * Answer when the start is made, or once startWaitMs passed with it still under way (the commit
   * is what the request changed; the start goes on in the background). A start that failed in
   * time gives its 503; so does one while Temporal is known to be away (seen before or during the
   * wait), which is waited for: a client must not read a 200 when its workflow cannot start.
   */
  private async answerWithin(start: PendingStart, attempt: Promise<unknown>): Promise<void> {
    if (!this.workflows.knownUnavailable?.()) {
      const settled = await settledWithin(attempt, this.startWaitMs);
      if (settled?.status === 'fulfilled') return;
      if (settled?.status === 'rejected') throw settled.reason;
      if (!this.workflows.knownUnavailable?.()) {
        this.background.track(start.systemId, attempt);
        return;
      }
    }
    await attempt;
  }

  /**
   * The machine's earlier operation may still be closing (an abort's cleanup powers the machine
   * off in a scope that cannot be cancelled): a new operation then waits the gateway's grace for
   * it, and is refused with a 409 that changed nothing if it is still running, as before starts
   * moved after the commit, rather than committed with a start the reconciler makes later. Asked
   * before the transaction, never under the row lock; best effort: the start after the commit
   * still copes with a run it meets (and says so when Temporal cannot be reached).
   */
  private async refuseWhileEarlierRunCloses(systemId: string): Promise<void> {
    // Only the two columns it needs (the whole entity, hardware report included, is not cheap).
    const [m] = (await this.db.query(
      `SELECT status, workflow_type AS "workflowType" FROM machines WHERE system_id = $1`,
      [systemId],
    )) as Array<Pick<Machine, 'status' | 'workflowType'>>;
    // In an operation (this one: a repeat or a duplicate; another: refused by the lifecycle table
    // at once), nothing to wait for: only a settled machine's earlier run may still be closing.
    if (!m || operationIn(m.status) !== undefined) return;
    // No workflow ever ran as machine:<id>: workflow_type is set by every claim of the machine (an
    // API start, a workflow's take-over or reset claim, '' when it had none) and by a deployed
    // registration, and never cleared, so NULL proves there is no earlier run to wait for (and
    // spares the Temporal round trip, slow under load, for a new machine's first operation).
    if (m.workflowType === null) return;
    let state: string;
    try {
      state = await this.workflows.waitForEarlierRun(lifecycleWorkflowId(systemId));
    } catch {
      return;
    }
    if (state === 'running')
      throw new ConflictError(
        `Another operation is in progress on this machine (workflow ${lifecycleWorkflowId(systemId)}).`,
      );
  }

  /**
   * Start the workflow a committed status change owes. Its ID is the machine's (deterministic), so
   * a start that is repeated (a retried request, the reconciler) cannot run the operation twice,
   * and one whose workflow is already running (a double submit) is a success (the gateway knows
   * the run by its claim token). If Temporal cannot take it, or another run of the machine is
   * still closing, the 503 says what did change: the machine is in the operation's status, and its
   * workflow is started by a repeated request or by the reconciler.
   */
  private async completeStart(start: PendingStart, op: LifecycleOperation): Promise<'started' | 'running'> {
    let outcome: 'started' | 'running';
    try {
      outcome = await this.workflows.start(start.type, start.workflowId, start.params as never);
    } catch (err) {
      if (!(err instanceof UnavailableError || err instanceof ConflictError)) throw err;
      const why = err.message.startsWith(WORKFLOW_SERVICE_DOWN) ? `${WORKFLOW_SERVICE_DOWN}.` : err.message;
      throw new UnavailableError(
        `${why} This request was recorded: machine ${start.systemId} is ${labelOf(op.inProgress!)}, ` +
          `and its workflow starts when the workflow service takes it (repeat this request, or the region ` +
          `starts it within its reconcile interval).`,
      );
    }
    // Its first step removes the row too; gone now, a workflow terminated before that step is
    // failed by the reconciler rather than started again.
    await clearPendingStart(this.db.manager, start.systemId, start.claimToken);
    return outcome;
  }

  /**
   * The transition and the workflow start of one machine already locked in `tx` (the bulk
   * operations: the start goes out before the commit); returns the start's claim token.
   */
  async startLocked<T extends LifecycleWorkflowType>(
    tx: EntityManager,
    m: Machine,
    op: LifecycleOperation,
    type: T,
    deadlines: Deadlines,
    o: StartSteps<T>,
  ): Promise<string> {
    const start = await this.transitionLocked(tx, m, op, type, deadlines, o);
    await this.workflows.start(type, start.workflowId, start.params as WorkflowParams<T>);
    return start.claimToken;
  }

  /** The transition of one machine already locked in `tx`, and the workflow start it owes. */
  private async transitionLocked<T extends LifecycleWorkflowType>(
    tx: EntityManager,
    m: Machine,
    op: LifecycleOperation,
    type: T,
    deadlines: Deadlines,
    o: StartSteps<T> & { scripts?: ScriptSetsStep },
  ): Promise<Omit<PendingStart, 'request'>> {
    const to = op.inProgress!;
    // The lifecycle table says where the operation may start; its workflow claims the machine
    // only from there, so anything else is refused here rather than failed there.
    if (!op.startFrom.includes(m.status)) throw notStartable(type, m);
    assertTransition(m.status, to);
    const systemId = m.systemId;
    const rackQueue = await this.racks.queueFor(m.rackId, tx);
    const workflowId = lifecycleWorkflowId(systemId);
    // The token tells the workflow whether this commit happened (see beginTransition).
    const claimToken = newClaimToken();
    await changeStatus(tx, m, { to, workflow: { id: workflowId, type, claimToken }, extra: o.extra(m) });
    // MAAS makes the run's script set (one pending result per script) when the operation starts.
    if (to === S.COMMISSIONING) await ensureScriptSet(tx, m.id, RESULT_TYPE.commissioning, claimToken);
    await o.scripts?.(tx, m, claimToken);
    const params = await o.params(m, {
      ...(await operatorRef(tx, m)),
      systemId,
      hostname: m.hostname,
      rackQueue,
      deadlines,
      claimToken,
    });
    return { systemId, workflowId, type, params, claimToken };
  }
}

/** MAAS's refusal when an operation cannot start from the machine's status, in its words and codes. */
function notStartable(type: LifecycleWorkflowType, m: Machine): Error {
  switch (type) {
    case WorkflowType.commission:
      // forms/ephemeral.py: CommissionForm.clean, a form error (400).
      return new FormValidationError({
        __all__: ['Commission is not available because of the current state of the node.'],
      });
    case WorkflowType.deploy:
      return new ConflictError(`Can't deploy a machine that is in the '${labelOf(m.status)}' state`);
    case WorkflowType.release:
      return new ConflictError(`Machine cannot be released in its current state ('${labelOf(m.status)}').`);
    case WorkflowType.test:
      // forms/ephemeral.py: TestForm.clean (a form error, 400), as for commission.
      return new FormValidationError({
        __all__: ['Test is not available because of the current state of the node.'],
      });
  }
}
