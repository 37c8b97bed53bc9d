// The workflow bundle's entry point: every workflow the region and rack workers run.
import type { WorkflowType, WorkflowParams, WorkflowResult } from '../contracts/workflows';
import { abortWorkflow } from './abort';
import { commissionWorkflow } from './commission';
import { deployWorkflow } from './deploy';
import { enlistWorkflow } from './enlist';
import { powerWorkflow } from './power';
import { registerDeployedWorkflow } from './register-deployed';
import { releaseWorkflow } from './release';
import { testWorkflow } from './test';

export {
  commissionWorkflow,
  deployWorkflow,
  releaseWorkflow,
  testWorkflow,
  abortWorkflow,
  enlistWorkflow,
  registerDeployedWorkflow,
  powerWorkflow,
};

/**
 * Temporal registers each export under its function name: written shorthand, the keys here are
 * those names, so the type checks both that they are the WorkflowType names and that each workflow
 * takes and returns what WorkflowSignatures (contracts/workflows.ts) says its starters pass.
 */
export const workflowsByType: { [T in WorkflowType]: (params: WorkflowParams<T>) => Promise<WorkflowResult<T>> } = {
  commissionWorkflow,
  deployWorkflow,
  releaseWorkflow,
  testWorkflow,
  abortWorkflow,
  enlistWorkflow,
  registerDeployedWorkflow,
  powerWorkflow,
};
