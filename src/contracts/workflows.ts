// Neutral ground between the region, the rack and the workflow sandbox: task queues, workflow
// names and IDs, signal payloads and parameter types. No I/O, no imports beyond contracts.

import type { MachineStatus } from './lifecycle';

/** Database work runs on the region's queue; hardware work on the queue of the rack that reaches it. */
export const REGION_TASK_QUEUE = 'region';
export const rackTaskQueue = (rackSystemId: string): string => `rack:${rackSystemId}`;

/**
 * One lifecycle workflow per machine at a time: every lifecycle workflow of a machine shares this
 * ID, so Temporal itself refuses a second one while the first runs.
 */
export const lifecycleWorkflowId = (systemId: string): string => `machine:${systemId}`;
/** Enlistment does not hold the lifecycle: the machine stays NEW and can be commissioned at once. */
export const enlistWorkflowId = (systemId: string): string => `enlist:${systemId}`;
/** Power actions requested through the API run beside the lifecycle, one at a time per machine. */
export const powerWorkflowId = (systemId: string): string => `power:${systemId}`;

export const WorkflowType = {
  commission: 'commissionWorkflow',
  deploy: 'deployWorkflow',
  release: 'releaseWorkflow',
  test: 'testWorkflow',
  abort: 'abortWorkflow',
  enlist: 'enlistWorkflow',
  registerDeployed: 'registerDeployedWorkflow',
  power: 'powerWorkflow',
} as const;
export type WorkflowType = (typeof WorkflowType)[keyof typeof WorkflowType];

/** Search attributes registered on the Temporal server so operators find a machine's workflows. */
export const SearchAttribute = {
  systemId: 'SystemId',
  hostname: 'Hostname',
  machineStatus: 'MachineStatus',
  /** The machine's owner's username when the operation started (none: unowned). */
  owner: 'Owner',
  /** The operation, one word (operationOfType): commission, deploy, release, abort, enlist, … */
  operation: 'Operation',
} as const;
export const SEARCH_ATTRIBUTE_NAMES = Object.values(SearchAttribute);

/** The signal every machine report (metadata `op=signal`, user-data fetch, status events) becomes. */
export const MACHINE_SIGNAL = 'machineSignal';
export type MachineSignalStatus =
  'OK' | 'FAILED' | 'WORKING' | 'COMMISSIONING' | 'TESTING' | 'TIMEDOUT' | 'INSTALLING' | 'RELEASING' | 'DEPLOYING';
export interface MachineSignal {
  /** `signal`: op=signal; `deployed-os`: the installed OS fetched its user-data (MAAS's "deployed"). */
  kind: 'signal' | 'deployed-os' | 'progress';
  status: MachineSignalStatus;
  message: string;
  /**
   * TESTING on a final report (OK/FAILED) that ends a commissioning run which reached its tests,
   * as the region found it from the run's script results: the workflow then moves on to testing
   * and takes the tests' outcome even when it never heard the TESTING report (workflows/test.ts).
   * Otherwise the machine's status. Absent in reports from earlier regions.
   */
  machineStatus?: number;
}

/** Query name answered by every lifecycle workflow: where in its runbook it is (an OperationStep). */
export const STEP_QUERY = 'currentStep';
/** The step query's answer; the machine's API JSON shows it as `operation_step`. */
export interface OperationStep {
  /** The runbook step, e.g. "wait for the commissioning results". */
  step: string;
  /** ISO time the current wait for the machine times out; null when the workflow is not waiting on it. */
  deadline: string | null;
  /** ISO time the machine last signalled this workflow; null when it has not yet. */
  lastHeardAt: string | null;
  /**
   * The silence the current wait allows (ms). A workflow whose progress reports the region keeps
   * (machine_progress.quiet) learns of them only at its deadline: the region moves both times on
   * by its own record of the machine's last report. Absent when not waiting, and from workflow
   * code older than the field.
   */
  silenceMs?: number;
}

export type BootPurpose = 'commissioning' | 'enlist' | 'xinstall' | 'local' | 'poweroff';
export type PowerAction = 'on' | 'off' | 'cycle' | 'query';
export type PowerState = 'on' | 'off' | 'unknown' | 'error';

/** Deadlines, in milliseconds (MAAS's node_timeout defaults to 30 minutes; deploy gets 2×). */
export interface Deadlines {
  nodeTimeoutMs: number;
}
export const DEFAULT_NODE_TIMEOUT_MS = 30 * 60 * 1000;

interface MachineRef {
  systemId: string;
  hostname: string;
  /** The task queue of the rack that can reach this machine's BMC and boot network. */
  rackQueue: string;
  deadlines: Deadlines;
  /** The owner's username, for the Owner search attribute and the UI's details. Absent: unowned, or started earlier. */
  owner?: string;
  /** The BMC the rack drives, for activity summaries ("Power on node-3 via IPMI 10.0.0.5"). Absent in earlier workflows. */
  power?: PowerRef;
}
/** Which driver and BMC address a machine's power actions go to (no secrets). */
export interface PowerRef {
  type: string;
  address?: string;
}

/** A lifecycle operation the API started (commission, deploy, release). */
interface LifecycleStart extends MachineRef {
  /**
   * Written on the machine (`claim_token`) in the transaction that claims it and starts this
   * workflow: tells the workflow's first step whether that commit happened. Absent in workflows
   * started before it existed.
   */
  claimToken?: string;
}

/**
 * Workflows started before the API refused the options they never read (enable_ssh, skip_*,
 * ephemeral_deploy) carry them in their input still; nothing reads them.
 */
export type CommissionParams = LifecycleStart;
/** op=test: the ephemeral environment runs the machine's testing set (made by the API at the start). */
export interface TestParams extends LifecycleStart {
  /** Where passing tests leave the machine (lifecycle.ts testingReturnsTo of the status it started from). */
  returnTo: MachineStatus;
}
export interface DeployParams extends LifecycleStart {
  /** The series of the boot resource the API resolved (for the workflow's messages). */
  distroSeries: string;
  /**
   * MAAS's ephemeral_deploy: the image runs from RAM, so there is no disk to boot afterwards; the
   * deploy ends when the running OS's cloud-init reports. Absent in workflows started earlier.
   */
  ephemeral?: boolean;
}
export interface ReleaseParams extends LifecycleStart {
  erase: boolean;
  secureErase: boolean;
  quickErase: boolean;
}
export interface AbortParams extends MachineRef {
  /** The transitional status being aborted, when the workflow that drove it is gone. */
  from: MachineStatus;
}
export type EnlistParams = MachineRef;
export type RegisterDeployedParams = Omit<MachineRef, 'rackQueue'>;
export interface PowerParams extends MachineRef {
  action: PowerAction;
}
export interface PowerResult {
  state: PowerState;
}

/** How a lifecycle workflow ended; also what the region records on the machine. */
export interface LifecycleOutcome {
  status: MachineStatus;
  message: string;
}

/**
 * Each workflow type's parameter and result. The region's WorkflowGateway starts a workflow only
 * with its own parameter type, and the workflow bundle (workflows/index.ts) is checked against it.
 */
export interface WorkflowSignatures {
  [WorkflowType.commission]: { params: CommissionParams; result: LifecycleOutcome };
  [WorkflowType.deploy]: { params: DeployParams; result: LifecycleOutcome };
  [WorkflowType.release]: { params: ReleaseParams; result: LifecycleOutcome };
  [WorkflowType.test]: { params: TestParams; result: LifecycleOutcome };
  [WorkflowType.abort]: { params: AbortParams; result: LifecycleOutcome };
  [WorkflowType.enlist]: { params: EnlistParams; result: LifecycleOutcome };
  [WorkflowType.registerDeployed]: { params: RegisterDeployedParams; result: LifecycleOutcome };
  [WorkflowType.power]: { params: PowerParams; result: PowerResult };
}
export type WorkflowParams<T extends WorkflowType> = WorkflowSignatures[T]['params'];
export type WorkflowResult<T extends WorkflowType> = WorkflowSignatures[T]['result'];
