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
  it('leaves a listed workflow alone for trustMs, then asks it once and trusts it anew', async () => {
    const { gateway } = scripted({ listed: ['a', 'b'] });
    const listing = new RunningListing(gateway, 1_000, () => undefined);
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 0))], ['a', 'b']);
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 999))], ['a', 'b']);
    // A visibility that goes on listing a run that ended hides it for trustMs, not for good.
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 1_000))], []);
    assert.deepEqual([...(await listing.skippable(['a', 'b', 'c'], 1_001))], ['a', 'b']);
  });

  it('a workflow that leaves the candidates and comes back starts a new period of trust', async () => {
    const { gateway } = scripted({ listed: ['a'] });
    const listing = new RunningListing(gateway, 1_000, () => undefined);
    await listing.skippable(['a'], 0);
    await listing.skippable([], 500);
    assert.deepEqual([...(await listing.skippable(['a'], 1_200))], ['a']);
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
