import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IssuedOnMemory } from '../../../src/activities/rack/issued-on';

describe("the rack's memory of the power-ons it sent `on` for", () => {
  const key = (activityId: string, runId = 'r1') => ({ workflowId: 'w', runId, activityId });

  it('knows an activity by its workflow run and activity id', () => {
    const m = new IssuedOnMemory();
    m.remember(key('1'));
    assert.equal(m.has(key('1')), true);
    assert.equal(m.has(key('2')), false);
    assert.equal(m.has(key('1', 'r2')), false, 'a reset run is another activity');
  });

  it('forgets after an hour, and drops what is that old when it learns more', () => {
    let now = 0;
    const m = new IssuedOnMemory(() => now);
    m.remember(key('1'));
    now = 59 * 60_000;
    m.remember(key('2'));
    assert.equal(m.has(key('1')), true);
    now = 61 * 60_000;
    assert.equal(m.has(key('1')), false);
    m.remember(key('3'));
    assert.equal(m.size, 2, 'the hour-old entry is gone');
  });

  it('holds at most 50,000 activities, dropping the oldest', () => {
    const m = new IssuedOnMemory(() => 0);
    for (let i = 0; i < 50_001; i++) m.remember(key(String(i)));
    assert.equal(m.size, 50_000);
    assert.equal(m.has(key('0')), false);
    assert.equal(m.has(key('50000')), true);
  });
});
