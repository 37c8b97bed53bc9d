import type {
  MachineSignal,
  OperationStep,
  WorkflowParams,
  WorkflowResult,
  WorkflowType,
} from '../../contracts/workflows';

export type WorkflowState =
  'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued' | 'not_found';

/**
 * What region services need from Temporal, owned here so services can be tested against a fake.
 * `start` fails with ConflictError when a workflow with that ID is running, and with
 * UnavailableError when Temporal cannot be reached. A lifecycle start (params with a claimToken)
 * is idempotent: one already running from the same start (same claim token) counts as started.
 */
export interface WorkflowGateway {
  /** 'running': this very start (its claim token) was already made by someone else and runs. */
  start<T extends WorkflowType>(type: T, workflowId: string, params: WorkflowParams<T>): Promise<'started' | 'running'>;
  /** Request cancellation; false when no such workflow is running. */
  cancel(workflowId: string): Promise<boolean>;
  /** Deliver a machine's report; false when no such workflow is running. */
  signal(workflowId: string, report: MachineSignal): Promise<boolean>;
  /**
   * Deliver a machine's report to the workflow, starting it with `params` first when none is
   * running (Temporal's signal-with-start: one call, so never two runs): a recorded start that
   * has not happened yet (services/workflow-starts.ts) when its machine already reports.
   */
  signalWithStart<T extends WorkflowType>(
    type: T,
    workflowId: string,
    params: WorkflowParams<T>,
    report: MachineSignal,
  ): Promise<void>;
  state(workflowId: string): Promise<WorkflowState>;
  /**
   * Of `workflowIds`, those Temporal's visibility lists as running: a few list calls for many
   * workflows, where state() is a call each. Visibility lags the workflows themselves (a run that
   * closed a moment ago may still be listed, one just started not yet), so a caller may use it only
   * to leave a workflow alone for now, never to act on one as gone. Absent: ask state() of each.
   */
  listedRunning?(workflowIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** Wait up to `timeoutMs` for the workflow to close; returns its final state. */
  waitForClose(workflowId: string, timeoutMs: number): Promise<WorkflowState>;
  /**
   * A machine's earlier lifecycle run may have recorded its outcome and be a moment from closing:
   * wait the one grace a new operation gives it (start after a conflict, the API before its
   * transaction, a bulk operation before its locks); 'running' when it still runs after that.
   */
  waitForEarlierRun(workflowId: string): Promise<WorkflowState>;
  /**
   * The running workflow's step query (contracts STEP_QUERY), answered within `timeoutMs`; null
   * when it is not running or no answer came in time (a read must not wait on Temporal).
   */
  step(workflowId: string, timeoutMs: number): Promise<OperationStep | null>;
  /**
   * Temporal is known to be away right now (a call's attempt found it unreachable and none has been
   * answered since), from calls already made: no round trip. Absent: not known.
   */
  knownUnavailable?(): boolean;
  /** Run a short workflow to completion and return its result (power actions). */
  execute<T extends WorkflowType>(
    type: T,
    workflowId: string,
    params: WorkflowParams<T>,
    timeoutMs: number,
  ): Promise<WorkflowResult<T>>;
}
