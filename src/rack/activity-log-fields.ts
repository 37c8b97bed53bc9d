// A rack worker interceptor: each activity runs in a log scope naming its machine and workflow,
// so the lines it logs (and its driver's) say which machine and which run they are about.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withLogFields } from './log-scope';

export const activityLogFields: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute: (input, next) =>
      withLogFields(
        {
          system_id: systemIdOf(input.args[0]),
          workflow_id: ctx.info.workflowExecution?.workflowId,
          run_id: ctx.info.workflowExecution?.runId,
        },
        () => next(input),
      ),
  },
});

/** Every rack activity takes `{ systemId }` (contracts/activities.ts). */
function systemIdOf(arg: unknown): string | undefined {
  const id = (arg as { systemId?: unknown } | undefined)?.systemId;
  return typeof id === 'string' ? id : undefined;
}
