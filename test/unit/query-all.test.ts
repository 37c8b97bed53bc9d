import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntityManager } from 'typeorm';
import { queryAll } from '../../src/region/services/query-all';

/** Two queries that record how many ran at once. */
function overlapProbe(): { runs: Array<() => Promise<number>>; most: () => number } {
  let running = 0;
  let most = 0;
  const run = (v: number) => async () => {
    running += 1;
    most = Math.max(most, running);
    await new Promise((r) => setImmediate(r));
    running -= 1;
    return v;
  };
  return { runs: [run(1), run(2)], most: () => most };
}

describe('queryAll', () => {
  it('runs queries at once on the pool (no transaction)', async () => {
    const probe = overlapProbe();
    assert.deepEqual(await queryAll({} as EntityManager, probe.runs), [1, 2]);
    assert.equal(probe.most(), 2);
  });

  it('runs them in turn inside a transaction (its one client must not get a query while another runs)', async () => {
    const probe = overlapProbe();
    assert.deepEqual(await queryAll({ queryRunner: {} } as EntityManager, probe.runs), [1, 2]);
    assert.equal(probe.most(), 1);
  });
});
