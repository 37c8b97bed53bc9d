// Workflows counted where the region sees them: started where it starts them (a client
// interceptor: every start, whichever service asks), and a lifecycle's outcome where its worker
// records it (finishTransition, an activity interceptor). Both log a line with the machine and
// the workflow. Nothing here runs in the workflow sandbox, so no workflow command changes.
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { TransitionInput, TransitionResult } from '../../contracts/activities';
import { abortStatusOf, FAILURE_STATUS, labelOf } from '../../contracts/lifecycle';
import type { Log } from '../../contracts/log';
import type { RegionMetrics, WorkflowOutcome } from '../metrics';

export function workflowStartCounter(metrics: RegionMetrics, log: Log): WorkflowClientInterceptor {
  return {
    async startWithDetails(input, next) {
      const started = await next(input);
      metrics.workflowsStarted.inc({ type: input.workflowType });
      const workflowId = input.options.workflowId;
      log(`${input.workflowType} started`, {
        system_id: systemIdOf(input.options.args[0]),
        workflow_id: workflowId,
        run_id: started.runId,
      });
      return started;
    },
  };
}

/** Counts (and logs) the outcome each lifecycle workflow records through finishTransition. */
export function workflowOutcomeCounter(metrics: RegionMetrics, log: Log): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        if (ctx.info.activityType !== 'finishTransition') return result;
        const transition = input.args[0] as TransitionInput;
        // Not applied: an operator moved the machine on first (their action is the outcome).
        if (!(result as TransitionResult).applied) return result;
        const type = ctx.info.workflowType ?? 'unknown';
        const outcome = outcomeOf(transition);
        metrics.workflowsFinished.inc({ type, outcome });
        log(`${type} ${outcome}: ${labelOf(transition.to)}`, {
          system_id: transition.systemId,
          workflow_id: ctx.info.workflowExecution?.workflowId,
          run_id: ctx.info.workflowExecution?.runId,
        });
        return result;
      },
    },
  });
}

const FAILURES: ReadonlySet<number> = new Set(Object.values(FAILURE_STATUS));

export function outcomeOf(t: Pick<TransitionInput, 'to' | 'expectFrom'>): WorkflowOutcome {
  if (FAILURES.has(t.to)) return 'failed';
  const from = t.expectFrom[0];
  return from !== undefined && abortStatusOf(from) === t.to ? 'aborted' : 'completed';
}

function systemIdOf(arg: unknown): string | undefined {
  const id = (arg as { systemId?: unknown } | undefined)?.systemId;
  return typeof id === 'string' ? id : undefined;
}
