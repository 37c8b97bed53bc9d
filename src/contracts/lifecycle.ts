// The machine lifecycle: MAAS's transition table (src/maasserver/node_status.py), checked here and
// nowhere else, and the operations that drive a machine through it (statuses: statuses.ts).
// Pure data and functions: imported by the API, the region activities and the workflows.

import { labelOf, MachineStatus } from './statuses';

// The statuses live in statuses.ts; everything that speaks of the lifecycle imports them from here.
export {
  isMachineStatus,
  labelOf,
  MachineStatus,
  type MachineStatusName,
  STATUS_LABELS,
  statusFromName,
} from './statuses';

const S = MachineStatus;

/** Statuses that testing may return a machine to (MAAS: NODE_TESTING_RESET_READY_TRANSITIONS). */
const TESTING_RESETS: MachineStatus[] = [
  S.COMMISSIONING,
  S.FAILED_DEPLOYMENT,
  S.MISSING,
  S.RETIRED,
  S.BROKEN,
  S.FAILED_RELEASING,
  S.FAILED_DISK_ERASING,
  S.FAILED_ENTERING_RESCUE_MODE,
  S.FAILED_EXITING_RESCUE_MODE,
  S.FAILED_TESTING,
];

/**
 * MAAS's NODE_TRANSITIONS, plus the two edges MAAS 3.x added outside that table and that the
 * reference names: a machine created already deployed (`null -> DEPLOYED`), and mark_fixed
 * returning a broken deployed machine to DEPLOYED (`BROKEN -> DEPLOYED`).
 */
export const TRANSITIONS: Readonly<Record<MachineStatus | 'created', readonly MachineStatus[]>> = {
  created: [S.NEW, S.MISSING, S.RETIRED, S.DEPLOYED],
  [S.NEW]: [S.COMMISSIONING, S.MISSING, S.READY, S.RETIRED, S.BROKEN, S.ENTERING_RESCUE_MODE],
  [S.COMMISSIONING]: [S.FAILED_COMMISSIONING, S.READY, S.RETIRED, S.MISSING, S.NEW, S.BROKEN, S.TESTING],
  [S.FAILED_COMMISSIONING]: [S.COMMISSIONING, S.MISSING, S.RETIRED, S.BROKEN, S.ENTERING_RESCUE_MODE, S.TESTING],
  [S.READY]: [
    S.ENTERING_RESCUE_MODE,
    S.COMMISSIONING,
    S.ALLOCATED,
    S.RESERVED,
    S.RETIRED,
    S.MISSING,
    S.BROKEN,
    S.TESTING,
  ],
  [S.RESERVED]: [
    S.READY,
    S.ALLOCATED,
    S.RETIRED,
    S.MISSING,
    S.BROKEN,
    S.DISK_ERASING,
    S.RELEASING,
    S.ENTERING_RESCUE_MODE,
    S.TESTING,
  ],
  [S.ALLOCATED]: [
    S.READY,
    S.RETIRED,
    S.MISSING,
    S.BROKEN,
    S.DEPLOYING,
    S.DISK_ERASING,
    S.RELEASING,
    S.ENTERING_RESCUE_MODE,
    S.TESTING,
  ],
  [S.RELEASING]: [
    S.ALLOCATED,
    S.RESERVED,
    S.DEPLOYED,
    S.READY,
    S.NEW,
    S.BROKEN,
    S.MISSING,
    S.FAILED_DEPLOYMENT,
    S.FAILED_DISK_ERASING,
    S.FAILED_RELEASING,
    S.DISK_ERASING,
  ],
  [S.DEPLOYING]: [
    S.ALLOCATED,
    S.MISSING,
    S.BROKEN,
    S.FAILED_DEPLOYMENT,
    S.DEPLOYED,
    S.READY,
    S.DISK_ERASING,
    S.RELEASING,
  ],
  [S.FAILED_DEPLOYMENT]: [
    S.ALLOCATED,
    S.MISSING,
    S.BROKEN,
    S.READY,
    S.DISK_ERASING,
    S.RELEASING,
    S.ENTERING_RESCUE_MODE,
    S.TESTING,
  ],
  [S.DEPLOYED]: [
    S.ALLOCATED,
    S.MISSING,
    S.BROKEN,
    S.READY,
    S.DISK_ERASING,
    S.RELEASING,
    S.ENTERING_RESCUE_MODE,
    S.TESTING,
  ],
  [S.MISSING]: [S.NEW, S.READY, S.ALLOCATED, S.COMMISSIONING, S.BROKEN, S.ENTERING_RESCUE_MODE, S.TESTING],
  [S.RETIRED]: [S.NEW, S.READY, S.MISSING, S.BROKEN, S.ENTERING_RESCUE_MODE, S.TESTING],
  [S.BROKEN]: [S.COMMISSIONING, S.READY, S.DEPLOYED, S.DISK_ERASING, S.RELEASING, S.ENTERING_RESCUE_MODE, S.TESTING],
  [S.FAILED_RELEASING]: [S.RELEASING, S.DISK_ERASING, S.READY, S.BROKEN, S.TESTING],
  [S.DISK_ERASING]: [S.BROKEN, S.DISK_ERASING, S.FAILED_DISK_ERASING, S.READY, S.NEW, S.RELEASING],
  [S.FAILED_DISK_ERASING]: [
    S.DISK_ERASING,
    S.RELEASING,
    S.BROKEN,
    S.ALLOCATED,
    S.READY,
    S.ENTERING_RESCUE_MODE,
    S.TESTING,
  ],
  [S.ENTERING_RESCUE_MODE]: [
    S.READY,
    S.BROKEN,
    S.DEPLOYED,
    S.RESCUE_MODE,
    S.FAILED_ENTERING_RESCUE_MODE,
    S.EXITING_RESCUE_MODE,
  ],
  [S.FAILED_ENTERING_RESCUE_MODE]: [S.BROKEN, S.ENTERING_RESCUE_MODE, S.EXITING_RESCUE_MODE, S.TESTING],
  [S.RESCUE_MODE]: [S.BROKEN, S.EXITING_RESCUE_MODE, S.TESTING],
  [S.EXITING_RESCUE_MODE]: [
    S.NEW,
    S.BROKEN,
    S.FAILED_COMMISSIONING,
    S.READY,
    S.RESERVED,
    S.ALLOCATED,
    S.FAILED_DEPLOYMENT,
    S.DEPLOYED,
    S.MISSING,
    S.RETIRED,
    S.FAILED_RELEASING,
    S.FAILED_DISK_ERASING,
    S.RESCUE_MODE,
    S.FAILED_ENTERING_RESCUE_MODE,
    S.FAILED_EXITING_RESCUE_MODE,
    S.FAILED_TESTING,
  ],
  [S.FAILED_EXITING_RESCUE_MODE]: [S.BROKEN, S.EXITING_RESCUE_MODE, S.TESTING],
  [S.TESTING]: [S.BROKEN, S.NEW, S.READY, S.RESERVED, S.ALLOCATED, S.DEPLOYED, ...TESTING_RESETS],
  [S.FAILED_TESTING]: [S.COMMISSIONING, S.BROKEN, S.MISSING, S.ENTERING_RESCUE_MODE, S.TESTING, S.READY, S.DEPLOYED],
};

/** In-progress status → the status a failure (or a timeout) leaves (NODE_FAILURE_STATUS_TRANSITIONS). */
export const FAILURE_STATUS: Readonly<Partial<Record<MachineStatus, MachineStatus>>> = {
  [S.COMMISSIONING]: S.FAILED_COMMISSIONING,
  [S.DEPLOYING]: S.FAILED_DEPLOYMENT,
  [S.RELEASING]: S.FAILED_RELEASING,
  [S.DISK_ERASING]: S.FAILED_DISK_ERASING,
  [S.ENTERING_RESCUE_MODE]: S.FAILED_ENTERING_RESCUE_MODE,
  [S.EXITING_RESCUE_MODE]: S.FAILED_EXITING_RESCUE_MODE,
  [S.TESTING]: S.FAILED_TESTING,
};

/** Statuses that exist only while a workflow drives the machine. */
export const TRANSITIONAL_STATUSES: readonly MachineStatus[] = Object.keys(FAILURE_STATUS).map(
  (s) => Number(s) as MachineStatus,
);

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: MachineStatus | null,
    readonly to: MachineStatus,
  ) {
    super(`Invalid transition: ${from === null ? 'Unknown' : labelOf(from)} -> ${labelOf(to)}.`);
    this.name = 'InvalidTransitionError';
  }
}

export function canTransition(from: MachineStatus | null, to: MachineStatus): boolean {
  const allowed = TRANSITIONS[from === null ? 'created' : from];
  return allowed.includes(to);
}

/** The one check every status change goes through. */
export function assertTransition(from: MachineStatus | null, to: MachineStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}

export function failureStatusOf(status: MachineStatus): MachineStatus | undefined {
  return FAILURE_STATUS[status];
}

export function isTransitional(status: MachineStatus): boolean {
  return TRANSITIONAL_STATUSES.includes(status);
}

/** Where an operation may start: a status, or `created` (the operation creates the machine). */
export type LifecycleOrigin = MachineStatus | 'created';

/**
 * One lifecycle operation: the statuses it moves a machine through. Workflows (their frame),
 * machine actions (start, abort) and the reconciler read these instead of keeping their own.
 */
export interface LifecycleOperation {
  /** MAAS's event type for the operation's events, e.g. "Commissioning". */
  event: string;
  /** The status while it runs; null: none (the machine is created in its outcome). */
  inProgress: MachineStatus | null;
  /**
   * The statuses it may start from: the API refuses others, and the workflow's first step claims
   * the machine only from these. The order is part of recorded workflow histories: keep it.
   */
  startFrom: readonly LifecycleOrigin[];
  /** Where a success may leave the machine. */
  succeedTo: readonly MachineStatus[];
  /** Where an abort leaves it; null: it cannot be aborted. */
  abortTo: MachineStatus | null;
  /** Where a failure or a timeout leaves it (MAAS's failure map); null: it cannot fail. */
  failTo: MachineStatus | null;
  /**
   * How long the machine may stay silent before the operation times out, in node_timeouts
   * (counted from the last time it was heard from); null: no deadline of its own.
   */
  silenceInNodeTimeouts: number | null;
}

/**
 * Where a machine goes when the tests it started from `from` pass (MAAS's _process_testing): READY
 * from a broken or failed status, NEW from failed commissioning, else back to `from`.
 */
export function testingReturnsTo(from: MachineStatus): MachineStatus {
  if (from === S.FAILED_COMMISSIONING) return S.NEW;
  if (from === S.NEW || TESTING_RESETS.includes(from)) return S.READY;
  return from;
}

/** The operations metalflow runs (a workflow, or an abort), keyed like WorkflowType. */
export const LIFECYCLE = {
  commission: {
    event: 'Commissioning',
    inProgress: S.COMMISSIONING,
    startFrom: [S.NEW, S.READY, S.FAILED_COMMISSIONING, S.BROKEN, S.MISSING, S.FAILED_TESTING],
    succeedTo: [S.READY],
    abortTo: S.NEW,
    failTo: S.FAILED_COMMISSIONING,
    silenceInNodeTimeouts: 1,
  },
  deploy: {
    event: 'Deploying',
    inProgress: S.DEPLOYING,
    // A READY machine is allocated to the caller first (MachineActions.deploy).
    startFrom: [S.ALLOCATED],
    succeedTo: [S.DEPLOYED],
    abortTo: S.ALLOCATED,
    failTo: S.FAILED_DEPLOYMENT,
    // MAAS bounds deployment by twice the node timeout.
    silenceInNodeTimeouts: 2,
  },
  release: {
    event: 'Releasing',
    inProgress: S.RELEASING,
    // MAAS's RELEASABLE_STATUSES.
    startFrom: [
      S.ALLOCATED,
      S.DEPLOYED,
      S.DEPLOYING,
      S.FAILED_DEPLOYMENT,
      S.FAILED_RELEASING,
      S.FAILED_DISK_ERASING,
      S.BROKEN,
      S.RESERVED,
    ],
    // READY once commissioned, else NEW (the releaseDestination activity).
    succeedTo: [S.READY, S.NEW],
    abortTo: S.FAILED_RELEASING,
    failTo: S.FAILED_RELEASING,
    // Powering off waits on the BMC only; erasing (diskErase) has the deadline.
    silenceInNodeTimeouts: null,
  },
  /** Release with erase: the second phase of the release workflow. */
  diskErase: {
    event: 'Disk erasing',
    inProgress: S.DISK_ERASING,
    startFrom: [S.RELEASING],
    succeedTo: [S.READY, S.NEW],
    abortTo: S.FAILED_DISK_ERASING,
    failTo: S.FAILED_DISK_ERASING,
    silenceInNodeTimeouts: 1,
  },
  /**
   * op=test: the ephemeral environment runs the testing set (MAAS's Test action's statuses, less
   * DEPLOYED, NEW and RESCUE_MODE: a deployed machine would lose its running workload to the
   * netboot, and this table has no NEW or RESCUE_MODE -> TESTING edge). Success goes back where
   * testing started from (testingReturnsTo), which the API works out at the start.
   */
  test: {
    event: 'Testing',
    inProgress: S.TESTING,
    startFrom: [
      S.READY,
      S.BROKEN,
      S.FAILED_COMMISSIONING,
      S.FAILED_DEPLOYMENT,
      S.FAILED_RELEASING,
      S.FAILED_DISK_ERASING,
      S.FAILED_TESTING,
      S.FAILED_ENTERING_RESCUE_MODE,
      S.FAILED_EXITING_RESCUE_MODE,
      S.MISSING,
      S.RETIRED,
      S.RESERVED,
      S.ALLOCATED,
    ],
    succeedTo: [S.READY, S.NEW, S.RESERVED, S.ALLOCATED],
    abortTo: S.FAILED_TESTING,
    failTo: S.FAILED_TESTING,
    // MAAS's node_timeout applies to testing as to commissioning (the environment's heartbeat keeps it alive).
    silenceInNodeTimeouts: 1,
  },
  /** A machine that netbooted unknown creates itself NEW; nothing runs long enough to abort. */
  enlist: {
    event: 'Enlisting',
    inProgress: null,
    startFrom: ['created'],
    succeedTo: [S.NEW],
    abortTo: null,
    failTo: null,
    silenceInNodeTimeouts: null,
  },
  /** A machine already running a workload is created DEPLOYED; no power action. */
  registerDeployed: {
    event: 'Deployed',
    inProgress: null,
    startFrom: ['created'],
    succeedTo: [S.DEPLOYED],
    abortTo: null,
    failTo: null,
    silenceInNodeTimeouts: null,
  },
} as const satisfies Record<string, LifecycleOperation>;

export type LifecycleOperationName = keyof typeof LIFECYCLE;

const OPERATIONS: ReadonlyArray<LifecycleOperation> = Object.values(LIFECYCLE);

/** The operation whose in-progress status this is (one each), if any. */
export function operationIn(status: MachineStatus): LifecycleOperation | undefined {
  return OPERATIONS.find((op) => op.inProgress === status);
}

/** In-progress statuses an operation can be aborted in (the API's `abort`). */
export const ABORTABLE_STATUSES: readonly MachineStatus[] = OPERATIONS.filter((op) => op.abortTo !== null).map(
  (op) => op.inProgress!,
);

/** Where aborting the operation in progress leaves the machine; undefined when it cannot be aborted. */
export function abortStatusOf(status: MachineStatus): MachineStatus | undefined {
  return operationIn(status)?.abortTo ?? undefined;
}

/** In-progress statuses of the operations metalflow drives: a machine in one needs a workflow. */
export const OPERATION_STATUSES: readonly MachineStatus[] = OPERATIONS.flatMap((op) =>
  op.inProgress === null ? [] : [op.inProgress],
);
