// Where a reset run was reset to, for the machine's "Retried from Temporal (…)" event: the reset
// is recorded in the run's own history (a workflow task failed with cause ResetWorkflow, carrying
// the operator's --reason), which the workflow cannot read but its activity can.
import { Context } from '@temporalio/activity';

/** temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW */
const RESET_WORKFLOW_CAUSE = 20;

/** "reset to event 12: <reason>" (the latest reset of the calling run); "reset" when it cannot be read. */
export async function resetPoint(): Promise<string> {
  const { workflowExecution } = Context.current().info;
  if (!workflowExecution) return 'reset';
  try {
    const history = await Context.current()
      .client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId)
      .fetchHistory();
    const reset = (history.events ?? [])
      .filter((e) => Number(e.workflowTaskFailedEventAttributes?.cause) === RESET_WORKFLOW_CAUSE)
      .at(-1);
    if (!reset) return 'reset';
    const reason = reset.workflowTaskFailedEventAttributes?.failure?.message?.trim();
    return `reset to event ${String(reset.eventId)}${reason ? `: ${reason}` : ''}`;
  } catch {
    // The words are a courtesy: an unreadable history must not stop the retry.
    return 'reset';
  }
}
