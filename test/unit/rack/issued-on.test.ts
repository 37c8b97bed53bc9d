import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IssuedOnMemory } from '../../../src/activities/rack/issued-on';

describe("the rack's memory of the power-ons it sent `on` for", () => {
  const key = (activityId: string, runId = 'r1') => ({ workflowId: 'w', runId, activityId });

  it('answers a later attempt of the same activity in the same run, and nothing else', () => {
    const m = new IssuedOnMemory();
    m.remember(key('1'), 1);
    assert.equal(m.issuedBefore(key('1'), 2), true);
    assert.equal(m.issuedBefore(key('1'), 1), false, 'attempt 1 again: an operator reset the activity');
    assert.equal(m.issuedBefore(key('2'), 2), false);
    assert.equal(m.issuedBefore(key('1', 'r2'), 2), false, 'a reset run is another activity');
  });

  it('forgets after an hour, and drops what is that old when it learns more', () => {
    let now = 0;
    const m = new IssuedOnMemory(() => now);
    m.remember(key('1'), 1);
    now = 59 * 60_000;
    m.remember(key('2'), 1);
    assert.equal(m.issuedBefore(key('1'), 2), true);
    now = 61 * 60_000;
    assert.equal(m.issuedBefore(key('1'), 2), false);
    m.remember(key('3'), 1);
    assert.equal(m.size, 2, 'the hour-old entry is gone');
  });

  it('holds at most 10,000 activities, dropping the oldest', () => {
    const m = new IssuedOnMemory(() => 0);
    for (let i = 0; i <= 10_000; i++) m.remember(key(String(i)), 1);
    assert.equal(m.size, 10_000);
    assert.equal(m.issuedBefore(key('0'), 2), false);
    assert.equal(m.issuedBefore(key('10000'), 2), true);
  });
});
