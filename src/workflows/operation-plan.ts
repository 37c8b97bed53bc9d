// What a lifecycle workflow reads from the lifecycle table (contracts/lifecycle.ts LIFECYCLE):
// its frame's statuses and how long the machine may stay silent.
import type { LifecycleOperation, MachineStatus } from '../contracts/lifecycle';
import type { Deadlines } from '../contracts/workflows';
import type { FramePlan } from './frame-plan';

export type FrameStatuses = Pick<FramePlan, 'operation' | 'inProgress' | 'expectFrom' | 'abortTo' | 'failTo'>;

/** The frame's statuses for an operation of the lifecycle table (contracts/lifecycle.ts LIFECYCLE). */
export function statusesOf(op: LifecycleOperation): FrameStatuses {
  const { inProgress, abortTo, failTo } = op;
  const expectFrom = op.startFrom.filter((s): s is MachineStatus => s !== 'created');
  if (inProgress === null || abortTo === null || failTo === null || expectFrom.length !== op.startFrom.length)
    throw new Error(`${op.event} does not run in the operation frame.`);
  return { operation: op.event, inProgress, expectFrom, abortTo, failTo };
}

/** How long the machine may stay silent in the operation (its timeout rule in the lifecycle table). */
export function silenceOf(op: LifecycleOperation, deadlines: Deadlines): number {
  if (op.silenceInNodeTimeouts === null) throw new Error(`${op.event} has no deadline of its own.`);
  return op.silenceInNodeTimeouts * deadlines.nodeTimeoutMs;
}
