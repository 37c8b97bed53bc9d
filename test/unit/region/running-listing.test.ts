// The reconciler's trust in Temporal's visibility (region/running-listing.ts): what it lists as
// running is left alone for a while only, a failed listing falls back to asking each (said once),
// and nothing is listed while Temporal is known to be away. A scripted gateway: the real listing
// against Temporal is tested in test/integration/reconciler.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunningListing } from '../../../src/region/running-listing';

function scripted(o: { listed?: string[]; fails?: string; away?: boolean }) {
  const calls: string[][] = [];
  return {
    calls,
    gateway: {
      listedRunning: async (ids: readonly string[]) => {
        calls.push([...ids]);
        if (o.fails) throw new Error(o.fails);
        return new Set((o.listed ?? []).filter((id) => ids.includes(id)));
      },
      knownUnavailable: () => o.away === true,
    },
  };
}

describe('RunningListing', () => {
  it('leaves a listed workflow alone for trustMs, then until it was asked, then trusts it anew', async () => {
    const { gateway } = scripted({ listed: ['a', 'b'] });
    const listing = new RunningListing(gateway, 1_000, () => undefined);
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 0))], ['a', 'b']);
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 999))], ['a', 'b']);
    // A visibility that goes on listing a run that ended hides it for trustMs, not for good.
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 1_000))], []);
    // Only 'a' was asked (the pass ended before 'b', e.g. Temporal blinked): 'b' is still owed an ask.
    listing.asked('a');
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 1_001))], ['a']);
  });

  it('a workflow that leaves the candidates for a while keeps its period of trust; one gone for long is forgotten', async () => {
    const { gateway } = scripted({ listed: ['a'] });
    const listing = new RunningListing(gateway, 1_000, () => undefined);
    await listing.skippable(['a'], 0);
    // Its machine was written (its grace restarted): not a candidate for a pass or two.
    await listing.skippable([], 500);
    assert.deepEqual([...(await listing.skippable(['a'], 1_200))], [], 'its trust ran out while it was away');
    await listing.skippable([], 3_300);
    assert.deepEqual([...(await listing.skippable(['a'], 3_400))], ['a'], 'away for over 2 × trustMs: trusted anew');
  });

  it('no trust: every candidate is asked', async () => {
    const { gateway } = scripted({ listed: ['a'] });
    assert.deepEqual([...(await new RunningListing(gateway, 0, () => undefined).skippable(['a'], 0))], []);
  });

  it('a failed listing: each is asked, and the reason is said once until it changes', async () => {
    const said: string[] = [];
    const o: { fails?: string } = { fails: 'visibility store down' };
    const { gateway } = scripted(o);
    const listing = new RunningListing(gateway, 60_000, (l) => said.push(l));
    assert.deepEqual([...(await listing.skippable(['a'], 0))], []);
    assert.deepEqual([...(await listing.skippable(['a'], 1))], []);
    assert.deepEqual(said, ['reconciler: listing the running workflows failed, asking each: visibility store down']);
    o.fails = 'query refused';
    await listing.skippable(['a'], 2);
    assert.equal(said.length, 2);
  });

  it('nothing is listed while Temporal is known to be away, nor for no candidates', async () => {
    const away = scripted({ listed: ['a'], away: true });
    assert.deepEqual([...(await new RunningListing(away.gateway, 60_000, () => undefined).skippable(['a']))], []);
    const none = scripted({ listed: ['a'] });
    await new RunningListing(none.gateway, 60_000, () => undefined).skippable([]);
    assert.deepEqual([...away.calls, ...none.calls], []);
  });

  it('a gateway that cannot list: each is asked', async () => {
    const listing = new RunningListing({}, 60_000, () => undefined);
    assert.deepEqual([...(await listing.skippable(['a']))], []);
  });
});
