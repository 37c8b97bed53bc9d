// The listing cache's budget (issue 17): it never keeps more than its bytes, a version that moved
// is a miss, and eviction takes machines no listing read since before ones a listing just read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PresentedMachineCache } from '../../../src/api/presenters/machine-listing-cache';

const entry = (version: string, bytes = 100) => ({
  version,
  head: Buffer.alloc(bytes / 2, 'h'),
  tail: Buffer.alloc(bytes / 2, 't'),
});
/** What one entry of `entry(version)` costs against the budget. */
const cost = (version: string) => version.length + 100 + 64;

describe('PresentedMachineCache', () => {
  it('answers only for the same variant, machine and version', () => {
    const cache = new PresentedMachineCache();
    cache.set('admin', 1, entry('v1'));
    assert.ok(cache.get('admin', 1, 'v1'));
    assert.equal(cache.get('admin', 1, 'v2'), undefined);
    assert.equal(cache.get('user', 1, 'v1'), undefined);
    assert.equal(cache.get('admin', 2, 'v1'), undefined);
    cache.set('admin', 1, entry('v2'));
    assert.deepEqual(cache.size, { entries: 1, bytes: cost('v2') });
  });

  it('stays within its budget, evicting machines not read since before the ones just read', () => {
    const cache = new PresentedMachineCache(4 * cost('v1'));
    for (const id of [1, 2, 3, 4]) cache.set('admin', id, entry('v1'));
    // A listing reads 1 and 3; then two new machines need room.
    assert.ok(cache.get('admin', 1, 'v1'));
    assert.ok(cache.get('admin', 3, 'v1'));
    cache.set('user', 5, entry('v1'));
    cache.set('user', 6, entry('v1'));
    assert.deepEqual(cache.size, { entries: 4, bytes: 4 * cost('v1') });
    assert.ok(cache.get('admin', 1, 'v1'));
    assert.ok(cache.get('admin', 3, 'v1'));
    assert.equal(cache.get('admin', 2, 'v1'), undefined);
    assert.equal(cache.get('admin', 4, 'v1'), undefined);
  });

  it('keeps nothing larger than its whole budget', () => {
    const cache = new PresentedMachineCache(100);
    cache.set('admin', 1, entry('v1', 200));
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
  });
});
