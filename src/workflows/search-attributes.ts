// The search attributes a lifecycle workflow keeps for operators (the Temporal UI and CLI find
// a machine's workflows by them), and how the frame upserts them.
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { operationOfType } from '../contracts/operator-view';
import { SearchAttribute } from '../contracts/workflows';

/**
 * The search attributes that find this workflow: the machine, its owner, the operation. One
 * upsert, as before Owner and Operation existed: more keys in it are not a new command.
 */
export function identityAttributes(plan: {
  systemId: string;
  hostname: string;
  owner?: string;
}): Record<string, string[]> {
  const operation = operationOfType(workflowInfo().workflowType);
  return {
    [SearchAttribute.systemId]: [plan.systemId],
    [SearchAttribute.hostname]: [plan.hostname],
    ...(plan.owner ? { [SearchAttribute.owner]: [plan.owner] } : {}),
    ...(operation ? { [SearchAttribute.operation]: [operation] } : {}),
  };
}

/**
 * Upsert `attributes`; with `onlyMissing` (LEANER_HISTORY_PATCH) only what the run does not have
 * yet (the API's start carries the identity and the in-progress status), and nothing when it has
 * them all: an upsert is a history event and a visibility write.
 */
export function upsertAttributes(attributes: Record<string, string[]>, onlyMissing: boolean): void {
  if (onlyMissing) {
    const has = workflowInfo().searchAttributes ?? {};
    const missing = Object.entries(attributes).filter(([k, v]) => JSON.stringify(has[k]) !== JSON.stringify(v));
    if (missing.length === 0) return;
    attributes = Object.fromEntries(missing);
  }
  upsertSearchAttributes(attributes);
}
