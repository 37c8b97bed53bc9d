// The lifecycle table (LIFECYCLE) against MAAS's transition table and failure map: every edge an
// operation takes must be one assertTransition allows, or a workflow would fail mid-operation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ABORTABLE_STATUSES,
  abortStatusOf,
  canTransition,
  FAILURE_STATUS,
  isTransitional,
  labelOf,
  LIFECYCLE,
  MachineStatus as S,
  OPERATION_STATUSES,
  operationIn,
  type LifecycleOperation,
  type MachineStatus,
} from '../../src/contracts/lifecycle';

const operations = Object.entries(LIFECYCLE) as Array<[string, LifecycleOperation]>;
const edge = (from: MachineStatus | 'created', to: MachineStatus) =>
  `${from === 'created' ? 'created' : labelOf(from)} -> ${labelOf(to)}`;
const legal = (from: MachineStatus | 'created', to: MachineStatus) =>
  canTransition(from === 'created' ? null : from, to);

describe('lifecycle operations table', () => {
  for (const [name, op] of operations) {
    it(`${name}: every start, in-progress, success, abort and failure edge is a legal transition`, () => {
      const illegal: string[] = [];
      const check = (from: MachineStatus | 'created', to: MachineStatus) => {
        if (!legal(from, to)) illegal.push(edge(from, to));
      };
      if (op.inProgress === null) {
        // Created in its outcome: from nothing straight to the result.
        for (const from of op.startFrom) for (const to of op.succeedTo) check(from, to);
        assert.equal(op.abortTo, null, 'an operation with no in-progress status cannot be aborted');
        assert.equal(op.failTo, null, 'an operation with no in-progress status cannot fail into one');
      } else {
        for (const from of op.startFrom) check(from, op.inProgress);
        for (const to of op.succeedTo) check(op.inProgress, to);
        if (op.abortTo !== null) check(op.inProgress, op.abortTo);
        if (op.failTo !== null) check(op.inProgress, op.failTo);
      }
      assert.deepEqual(illegal, []);
    });

    if (op.inProgress !== null) {
      it(`${name}: its failure destination is MAAS's (NODE_FAILURE_STATUS_TRANSITIONS)`, () => {
        assert.ok(isTransitional(op.inProgress!), `${labelOf(op.inProgress!)} is not transitional`);
        assert.equal(op.failTo, FAILURE_STATUS[op.inProgress!]);
      });
    }
  }

  it('gives every in-progress status to one operation', () => {
    const statuses = operations.flatMap(([, op]) => (op.inProgress === null ? [] : [op.inProgress]));
    assert.equal(new Set(statuses).size, statuses.length);
    assert.deepEqual([...OPERATION_STATUSES].sort(), [...statuses].sort());
    for (const s of statuses) assert.equal(operationIn(s)?.inProgress, s);
    assert.equal(operationIn(S.READY), undefined);
  });

  it("keeps MAAS's abort destinations", () => {
    assert.deepEqual(
      [...ABORTABLE_STATUSES].sort((a, b) => a - b),
      [S.COMMISSIONING, S.DEPLOYING, S.RELEASING, S.DISK_ERASING, S.TESTING].sort((a, b) => a - b),
    );
    assert.equal(abortStatusOf(S.COMMISSIONING), S.NEW);
    assert.equal(abortStatusOf(S.DEPLOYING), S.ALLOCATED);
    assert.equal(abortStatusOf(S.RELEASING), S.FAILED_RELEASING);
    assert.equal(abortStatusOf(S.DISK_ERASING), S.FAILED_DISK_ERASING);
    assert.equal(abortStatusOf(S.TESTING), S.FAILED_TESTING);
    assert.equal(abortStatusOf(S.DEPLOYED), undefined);
  });

  it("starts release from MAAS's RELEASABLE_STATUSES and erases only while releasing", () => {
    assert.deepEqual(
      [...LIFECYCLE.release.startFrom].sort((a, b) => a - b),
      [
        S.ALLOCATED,
        S.RESERVED,
        S.BROKEN,
        S.DEPLOYING,
        S.DEPLOYED,
        S.FAILED_DEPLOYMENT,
        S.FAILED_RELEASING,
        S.FAILED_DISK_ERASING,
      ].sort((a, b) => a - b),
    );
    assert.deepEqual(LIFECYCLE.diskErase.startFrom, [LIFECYCLE.release.inProgress]);
  });

  it('starts commissioning from where MAAS does, except testing (abort that first)', () => {
    const into = (to: MachineStatus) =>
      (Object.values(S) as MachineStatus[]).filter((from) => from !== to && canTransition(from, to));
    assert.deepEqual(
      [...LIFECYCLE.commission.startFrom].sort((a, b) => a - b),
      into(S.COMMISSIONING).filter((from) => from !== S.TESTING),
    );
    assert.deepEqual(LIFECYCLE.deploy.startFrom, into(S.DEPLOYING));
  });

  it('bounds the machine-driven phases by node_timeout (deploy: twice)', () => {
    assert.equal(LIFECYCLE.commission.silenceInNodeTimeouts, 1);
    assert.equal(LIFECYCLE.deploy.silenceInNodeTimeouts, 2);
    assert.equal(LIFECYCLE.diskErase.silenceInNodeTimeouts, 1);
  });
});
