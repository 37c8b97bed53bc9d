import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertTransition,
  canTransition,
  failureStatusOf,
  InvalidTransitionError,
  isTransitional,
  labelOf,
  MachineStatus as S,
  statusFromName,
  STATUS_LABELS,
  TRANSITIONS,
} from '../../src/contracts/lifecycle';

describe('machine lifecycle table', () => {
  it("keeps MAAS's 23 status integers", () => {
    assert.equal(Object.keys(S).length, 23);
    assert.deepEqual(
      [
        S.NEW,
        S.COMMISSIONING,
        S.READY,
        S.DEPLOYED,
        S.BROKEN,
        S.DEPLOYING,
        S.ALLOCATED,
        S.RELEASING,
        S.DISK_ERASING,
        S.TESTING,
        S.FAILED_TESTING,
      ],
      [0, 1, 4, 6, 8, 9, 10, 12, 14, 21, 22],
    );
    assert.equal(Object.keys(STATUS_LABELS).length, 23);
    assert.equal(labelOf(S.FAILED_RELEASING), 'Releasing failed');
  });

  it('allows the main edges of the reference', () => {
    const edges: Array<[S | null, S]> = [
      [S.NEW, S.COMMISSIONING],
      [S.COMMISSIONING, S.READY],
      [S.COMMISSIONING, S.FAILED_COMMISSIONING],
      [S.COMMISSIONING, S.NEW],
      [S.READY, S.ALLOCATED],
      [S.READY, S.COMMISSIONING],
      [S.ALLOCATED, S.DEPLOYING],
      [S.ALLOCATED, S.RELEASING],
      [S.ALLOCATED, S.READY],
      [S.DEPLOYING, S.DEPLOYED],
      [S.DEPLOYING, S.FAILED_DEPLOYMENT],
      [S.DEPLOYING, S.ALLOCATED],
      [S.DEPLOYED, S.RELEASING],
      [S.DEPLOYED, S.DISK_ERASING],
      [S.RELEASING, S.READY],
      [S.RELEASING, S.NEW],
      [S.RELEASING, S.FAILED_RELEASING],
      [S.DISK_ERASING, S.READY],
      [S.DISK_ERASING, S.FAILED_DISK_ERASING],
      [S.BROKEN, S.READY],
      [S.BROKEN, S.DEPLOYED],
      [null, S.DEPLOYED],
      [null, S.NEW],
    ];
    for (const [from, to] of edges) assert.ok(canTransition(from, to), `${from} -> ${to}`);
  });

  it('lets every other status go to BROKEN (mark_broken)', () => {
    for (const from of Object.values(S)) {
      if (from === S.BROKEN) continue;
      assert.ok(canTransition(from, S.BROKEN), `${labelOf(from)} -> Broken`);
    }
  });

  it("refuses what MAAS refuses, with MAAS's message", () => {
    assert.throws(
      () => assertTransition(S.NEW, S.DEPLOYED),
      (e: unknown) => e instanceof InvalidTransitionError && e.message === 'Invalid transition: New -> Deployed.',
    );
    assert.throws(() => assertTransition(S.READY, S.DEPLOYING), /Invalid transition: Ready -> Deploying\./);
    assert.throws(() => assertTransition(S.COMMISSIONING, S.ALLOCATED), InvalidTransitionError);
    assert.ok(!canTransition(S.DEPLOYED, S.COMMISSIONING));
  });

  it('only names real statuses in the table', () => {
    const all = new Set<number>(Object.values(S));
    for (const [from, tos] of Object.entries(TRANSITIONS)) {
      assert.ok(from === 'created' || all.has(Number(from)), from);
      for (const to of tos) assert.ok(all.has(to), `${from} -> ${to}`);
    }
  });

  it('maps in-progress statuses to their failures', () => {
    assert.equal(failureStatusOf(S.COMMISSIONING), S.FAILED_COMMISSIONING);
    assert.equal(failureStatusOf(S.DEPLOYING), S.FAILED_DEPLOYMENT);
    assert.equal(failureStatusOf(S.RELEASING), S.FAILED_RELEASING);
    assert.equal(failureStatusOf(S.DISK_ERASING), S.FAILED_DISK_ERASING);
    assert.equal(failureStatusOf(S.READY), undefined);
    assert.ok(isTransitional(S.DEPLOYING));
    assert.ok(!isTransitional(S.DEPLOYED));
  });

  it('reads statuses by enum name or label', () => {
    assert.equal(statusFromName('ready'), S.READY);
    assert.equal(statusFromName('Failed deployment'), S.FAILED_DEPLOYMENT);
    assert.equal(statusFromName('failed_deployment'), S.FAILED_DEPLOYMENT);
    assert.equal(statusFromName('nonsense'), undefined);
  });
});
