// Workflow interceptors that give every activity a one-line summary for the Temporal UI and
// `temporal workflow describe` ("Power on node-3 via IPMI 10.0.0.5"). Here rather than at each call
// site: the summary needs the machine the workflow was started for (its params), which activity
// inputs do not carry. A summary is activity metadata, not a command: histories replay unchanged.
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { summarizeActivity, type SummaryMachine } from '../contracts/operator-view';

export const interceptors: WorkflowInterceptorsFactory = () => {
  // One factory call per workflow execution: this is that workflow's machine.
  let machine: SummaryMachine | undefined;
  /** The input with its summary, unless the call site gave one. */
  const withSummary = <I extends { activityType: string; args: unknown[]; options: { summary?: string } }>(
    input: I,
  ): I =>
    input.options.summary
      ? input
      : {
          ...input,
          options: { ...input.options, summary: summarizeActivity(input.activityType, input.args[0], machine) },
        };
  return {
    inbound: [
      {
        async execute(input, next) {
          machine = input.args[0] as SummaryMachine | undefined;
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(withSummary(input)),
        // The database steps a workflow runs as local activities (the claim since lean-start).
        scheduleLocalActivity: (input, next) => next(withSummary(input)),
      },
    ],
  };
};
