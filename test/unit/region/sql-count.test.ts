import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sqlCount } from '../../../src/region/services/sql-count';

describe('sqlCount', () => {
  it('writes a whole, non-negative row count, and refuses anything else', () => {
    assert.equal(sqlCount(0), '0');
    assert.equal(sqlCount(500), '500');
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])
      assert.throws(() => sqlCount(bad), /Not a row count/);
  });
});
