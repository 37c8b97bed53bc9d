// Workflow interceptors that give every activity a one-line summary for the Temporal UI and
// `temporal workflow describe` ("Power on node-3 via IPMI 10.0.0.5"). Here rather than at each call
// site: the summary needs the machine the workflow was started for (its params), which activity
// inputs do not carry. A summary is activity metadata, not a command: histories replay unchanged.
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { summarizeActivity, type SummaryMachine } from '../contracts/operator-view';

export const interceptors: WorkflowInterceptorsFactory = () => {
  // One factory call per workflow execution: this is that workflow's machine.
  let machine: SummaryMachine | undefined;
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
        async scheduleActivity(input, next) {
          if (input.options.summary) return next(input);
          const summary = summarizeActivity(input.activityType, input.args[0], machine);
          return next({ ...input, options: { ...input.options, summary } });
        },
        // The database steps a workflow runs as local activities (the claim since lean-start).
        async scheduleLocalActivity(input, next) {
          if (input.options.summary) return next(input);
          const summary = summarizeActivity(input.activityType, input.args[0], machine);
          return next({ ...input, options: { ...input.options, summary } });
        },
      },
    ],
  };
};
