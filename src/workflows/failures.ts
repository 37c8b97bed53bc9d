// How a lifecycle workflow says it failed: the failure the runbook chooses, the message taken from
// a chain of Temporal failures, and MAAS's wording for a machine that went silent.
import { ApplicationFailure } from '@temporalio/workflow';

/** A failure the runbook chose, with the message that goes into status_message. */
export function operationFailed(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'OperationFailed');
}

/** The most specific human message in a chain of Temporal failures. */
export function failureMessage(err: unknown): string {
  let current: unknown = err;
  let message = 'Unknown error.';
  while (current instanceof Error) {
    if (current.message) message = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return message;
}

/** MAAS's wording for a machine that went silent. */
export function timedOut(operation: string, ms: number): string {
  const duration = ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} minutes` : `${Math.round(ms / 1000)} seconds`;
  return `Node operation '${operation}' timed out after ${duration}.`;
}
