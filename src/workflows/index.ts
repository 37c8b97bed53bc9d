// The workflow bundle's entry point: every workflow the region and rack workers run.
export { commissionWorkflow } from './commission';
export { deployWorkflow } from './deploy';
export { releaseWorkflow } from './release';
export { abortWorkflow } from './abort';
export { enlistWorkflow } from './enlist';
export { registerDeployedWorkflow } from './register-deployed';
export { powerWorkflow } from './power';
