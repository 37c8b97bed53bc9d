// A request repeated after the 503 that said its start was recorded completes that start. It must
// ask for the same thing: the recorded start runs with the first request's parameters, so a repeat
// asking for others would be answered as if they were honoured (house rule: a parameter accepted
// is honoured or refused). Pure; the caller has the recorded start under the machine's lock.
import { WorkflowType } from '../../contracts/workflows';
import { ConflictError } from '../errors';
import type { StartRequest } from './workflow-starts';

/** The operation in MAAS's words, for the refusal. */
const OPERATION: Partial<Record<WorkflowType, string>> = {
  [WorkflowType.commission]: 'commissioning',
  [WorkflowType.deploy]: 'deployment',
  [WorkflowType.release]: 'release',
  [WorkflowType.test]: 'testing',
};

/** The parameters whose values differ (either side missing one counts), in the request's order. */
export function differingParameters(recorded: StartRequest, repeat: StartRequest): string[] {
  const names = [...new Set([...Object.keys(repeat), ...Object.keys(recorded)])];
  return names.filter((n) => recorded[n] !== repeat[n]);
}

/**
 * Refuses (409) a repeat whose parameters differ from the recorded start's, naming them. A start
 * recorded before its request was (null, migration 0041) is completed as it was asked.
 */
export function assertSameRequest(type: WorkflowType, recorded: StartRequest | null, repeat: StartRequest): void {
  if (recorded === null) return;
  const differ = differingParameters(recorded, repeat);
  if (differ.length === 0) return;
  throw new ConflictError(
    `This machine's ${OPERATION[type] ?? type} was recorded with other parameters (${differ.join(', ')}); ` +
      `repeat the same request, or abort it.`,
  );
}
