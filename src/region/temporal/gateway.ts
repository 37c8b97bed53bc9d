// The region's WorkflowGateway over a real Temporal client.
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { describeWorkflow, operationOfType, statusAtStart } from '../../contracts/operator-view';
import {
  MACHINE_SIGNAL,
  REGION_TASK_QUEUE,
  SearchAttribute,
  STEP_QUERY,
  type MachineSignal,
  type OperationStep,
  type WorkflowParams,
  type WorkflowResult,
  type WorkflowType,
} from '../../contracts/workflows';
import { ConflictError, UnavailableError } from '../errors';
import { dependencyOutage } from '../outages';
import type { WorkflowGateway, WorkflowState } from '../services/workflow-gateway';
import { TemporalReachability } from './reachability';

const STATE: Record<WorkflowExecutionStatusName, WorkflowState> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'continued',
  UNKNOWN: 'not_found',
  UNSPECIFIED: 'not_found',
  PAUSED: 'running',
} as Record<WorkflowExecutionStatusName, WorkflowState>;

/** How long a new operation waits for the machine's earlier workflow to finish closing. */
const EARLIER_RUN_GRACE_MS = 5_000;
/**
 * The same wait once the operation is committed and its start recorded (start after a conflict):
 * longer, since giving up answers 503 for a change already made. The earlier run is one whose
 * claim the commit ended (it is failing or cleaning up); on a loaded worker that took over 5 s.
 */
const RECORDED_START_GRACE_MS = 15_000;

/** Workflow IDs a visibility query may quote as they are (ours: machine:<system_id>, power:…). */
const LISTABLE_ID = /^[\w:.@-]+$/;
/** IDs per visibility query: keeps each query short whatever the number of machines. */
const LIST_BATCH = 100;

export class TemporalWorkflowGateway implements WorkflowGateway {
  constructor(
    private readonly client: Client,
    /** Shared with the client's retry interceptor (cli/region.ts), which sees failed attempts first. */
    private readonly reachability = new TemporalReachability(),
  ) {}

  knownUnavailable(): boolean {
    return this.reachability.knownUnavailable;
  }

  async start<T extends WorkflowType>(
    type: T,
    workflowId: string,
    params: WorkflowParams<T>,
  ): Promise<'started' | 'running'> {
    try {
      await this.startOnce(type, workflowId, params);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // This very start already went out (a repeated request or the reconciler raced the one that
      // recorded it): it is started, not in conflict with itself.
      if (await this.runningFrom(workflowId, params)) return 'running';
      // The previous lifecycle may have recorded its outcome and be a moment from closing.
      if ((await this.waitForClose(workflowId, RECORDED_START_GRACE_MS)) === 'running') throw err;
      try {
        await this.startOnce(type, workflowId, params);
      } catch (again) {
        // Two requests completing one recorded start (a release and its repeat) both waited for
        // the earlier run: the other one's start went out first, which is this start too.
        if (again instanceof ConflictError && (await this.runningFrom(workflowId, params))) return 'running';
        throw again;
      }
    }
    return 'started';
  }

  private async startOnce<T extends WorkflowType>(
    type: T,
    workflowId: string,
    params: WorkflowParams<T>,
  ): Promise<void> {
    try {
      await this.client.workflow.start(type, {
        ...lifecycleStart(type, workflowId, params),
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
      this.reachability.answered();
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        this.reachability.answered();
        throw new ConflictError(`Another operation is in progress on this machine (workflow ${workflowId}).`);
      }
      throw this.unavailable(err);
    }
  }

  /** Whether the workflow running under this ID was started from this start (its claim token). */
  private async runningFrom(workflowId: string, params: object): Promise<boolean> {
    const key = startKey(params);
    if (key === undefined) return false;
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      return d.status.name === 'RUNNING' && d.memo?.[START_MEMO] === key;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw unavailable(err);
    }
  }

  async cancel(workflowId: string): Promise<boolean> {
    if ((await this.state(workflowId)) !== 'running') return false;
    try {
      await this.client.workflow.getHandle(workflowId).cancel();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw unavailable(err);
    }
  }

  async signal(workflowId: string, report: MachineSignal): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(workflowId).signal(MACHINE_SIGNAL, report);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw unavailable(err);
    }
  }

  async signalWithStart<T extends WorkflowType>(
    type: T,
    workflowId: string,
    params: WorkflowParams<T>,
    report: MachineSignal,
  ): Promise<void> {
    try {
      // The same options as start's (its memo too: the API's own start then knows this run as its start).
      await this.client.workflow.signalWithStart(type, {
        ...lifecycleStart(type, workflowId, params),
        signal: MACHINE_SIGNAL,
        signalArgs: [report],
      });
    } catch (err) {
      throw unavailable(err);
    }
  }

  async state(workflowId: string): Promise<WorkflowState> {
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      this.reachability.answered();
      return STATE[d.status.name] ?? 'not_found';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        this.reachability.answered();
        return 'not_found';
      }
      throw this.unavailable(err);
    }
  }

  async listedRunning(workflowIds: readonly string[]): Promise<ReadonlySet<string>> {
    const running = new Set<string>();
    // An ID the query language could misread is left out: the caller asks state() of it.
    const listable = workflowIds.filter((id) => LISTABLE_ID.test(id));
    if (listable.length === 0) return running;
    try {
      for (let i = 0; i < listable.length; i += LIST_BATCH) {
        const ids = listable.slice(i, i + LIST_BATCH).map((id) => `'${id}'`);
        const query = `WorkflowId IN (${ids.join(', ')}) AND ExecutionStatus = 'Running'`;
        for await (const w of this.client.workflow.list({ query })) running.add(w.workflowId);
      }
      this.reachability.answered();
      return running;
    } catch (err) {
      // Not noted as an outage (nor are its attempts: reachability.ts's UNOBSERVED): visibility
      // can fail, in its own store, while every other call is answered.
      throw unavailable(err);
    }
  }

  async waitForClose(workflowId: string, timeoutMs: number): Promise<WorkflowState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(workflowId);
      if (state !== 'running' || Date.now() > deadline) return state;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  waitForEarlierRun(workflowId: string): Promise<WorkflowState> {
    return this.waitForClose(workflowId, EARLIER_RUN_GRACE_MS);
  }

  async step(workflowId: string, timeoutMs: number): Promise<OperationStep | null> {
    try {
      // A deadline on the call: a query waits for a worker to answer, which may be down.
      const answer = await this.client.withDeadline(Date.now() + timeoutMs, () =>
        this.client.workflow.getHandle(workflowId).query<OperationStep | string>(STEP_QUERY),
      );
      // Workflow code before the step query answered an object answered the bare step.
      return typeof answer === 'string' ? { step: answer, deadline: null, lastHeardAt: null } : answer;
    } catch {
      // Not running, no worker to answer in time, or Temporal down: the step is unknown, not an error.
      return null;
    }
  }

  /** The client's error as ours; an outage is noted (knownUnavailable) until the server answers again. */
  private unavailable(err: unknown): Error {
    if (dependencyOutage(err)) this.reachability.unavailable();
    return unavailable(err);
  }

  async execute<T extends WorkflowType>(
    type: T,
    workflowId: string,
    params: WorkflowParams<T>,
    timeoutMs: number,
  ): Promise<WorkflowResult<T>> {
    try {
      const handle = await this.client.workflow.start(type, {
        taskQueue: REGION_TASK_QUEUE,
        workflowId,
        args: [params],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowExecutionTimeout: timeoutMs,
        ...operatorView(type, params),
      });
      return (await handle.result()) as WorkflowResult<T>;
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/** What a lifecycle workflow starts with, by start or by signal-with-start. */
function lifecycleStart<T extends WorkflowType>(type: T, workflowId: string, params: WorkflowParams<T>) {
  const key = startKey(params);
  return {
    taskQueue: REGION_TASK_QUEUE,
    workflowId,
    args: [params] as [WorkflowParams<T>],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    ...operatorView(type, params),
    // Which start this run is (a memo is no workflow command: histories replay unchanged).
    ...(key ? { memo: { [START_MEMO]: key } } : {}),
  };
}

/** The memo key of a lifecycle start's claim token, which identifies the start (contracts LifecycleStart). */
const START_MEMO = 'claimToken';
const startKey = (params: object): string | undefined => (params as { claimToken?: string }).claimToken;

/** What the Temporal UI shows and searches by for a workflow the region starts. */
function operatorView<T extends WorkflowType>(type: T, params: WorkflowParams<T>) {
  const { summary, details } = describeWorkflow(type, params);
  const operation = operationOfType(type);
  const status = statusAtStart(type);
  return {
    staticSummary: summary,
    staticDetails: details,
    searchAttributes: {
      // The status the API committed before the start: the workflow's claim need not upsert it.
      ...(status ? { [SearchAttribute.machineStatus]: [status] } : {}),
      ...(params.systemId ? { [SearchAttribute.systemId]: [params.systemId] } : {}),
      ...(params.hostname ? { [SearchAttribute.hostname]: [params.hostname] } : {}),
      ...(params.owner ? { [SearchAttribute.owner]: [params.owner] } : {}),
      ...(operation ? { [SearchAttribute.operation]: [operation] } : {}),
    },
  };
}

function unavailable(err: unknown): Error {
  if (err instanceof ConflictError) return err;
  // The workflow failed on purpose and said why (e.g. the BMC refused): that, without our prefix.
  if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure)
    return new UnavailableError(err.cause.message);
  // The server down or restarting: say so plainly rather than in gRPC's words.
  const outage = dependencyOutage(err);
  if (outage) return new UnavailableError(outage.message);
  const e = err as { message?: string; cause?: { message?: string } };
  const reason = e.cause?.message ?? e.message ?? String(err);
  return new UnavailableError(`Workflow service: ${reason}`);
}
