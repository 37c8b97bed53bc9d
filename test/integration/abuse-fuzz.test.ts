// Issue 15's abuse suite, HTTP part: walk every action describe/ lists (every resource, op and
// method, placeholders filled with the seeded world's real ids and with hostile ones) as
// anonymous, a user, another user, a machine token and an admin, sending hostile values (NUL and
// control characters, 64 KiB, negative/huge/float/exponent numbers, wrong types, 1,000 repeats,
// unicode, empty, JSON nested 50,000 deep). No 5xx, no hang, no cut-off reply, no secret shown to
// someone who may not see it, nothing written by a refused request. Known failures are listed in
// test/helpers/fuzz/allowlist.ts with the fix that removes each; a listed one that no longer
// happens fails the test too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describedActions, realIds } from '../helpers/fuzz/actions';
import { KNOWN_FAILURES, matches } from '../helpers/fuzz/allowlist';
import { casesFor, categoryOf } from '../helpers/fuzz/cases';
import { paramNamesFor, sourceParamNames } from '../helpers/fuzz/param-names';
import { describeFailure, Tally } from '../helpers/fuzz/report';
import { runCase } from '../helpers/fuzz/runner';
import { startFuzzWorld, type FuzzWorld } from '../helpers/fuzz/world';

/** Hostile-value cases per action: bounds the run (~N × actions requests, plus baselines). */
const VALUES_PER_ACTION = 30;

describe('abuse fuzzer: every described action, hostile values, five principals', () => {
  let world: FuzzWorld;
  before(async () => {
    world = await startFuzzWorld();
  });
  after(async () => {
    await world?.stop();
  });

  // The checks below can fail: a reply with a secret is seen, and a write is seen and undone.
  it('controls: the secret grep and the database snapshot see what they look for', async () => {
    const pristine = await world.snapshot();
    const ready = world.seededSystemIds[0]!;
    const shown = await world.api.call('GET', `/MAAS/api/2.0/machines/${ready}/?op=power_parameters`, {
      key: world.keys.admin,
    });
    assert.equal(shown.status, 200, shown.text);
    const seen = world.secrets.filter((s) => shown.text.includes(s.value));
    assert.ok(seen.length > 0, 'the seeded BMC password is in an admin power_parameters reply');
    assert.ok(seen.every((s) => s.mayShow('admin', 'power_parameters') && !s.mayShow('user', 'power_parameters')));
    const put = await world.api.call('PUT', '/MAAS/api/2.0/zones/fuzz-zone/', {
      key: world.keys.admin,
      form: { description: 'changed' },
    });
    assert.equal(put.status, 200, put.text);
    assert.notDeepEqual(await world.snapshot(), pristine, 'a write changes the snapshot');
    await world.restore();
    assert.deepEqual(await world.snapshot(), pristine, 'restore() brings the seeded world back');
  });

  it('no 5xx, hang, cut-off reply, leaked secret or half-written row beyond the known failures', async () => {
    const actions = await describedActions(world.api);
    assert.ok(actions.length > 50, `describe/ lists ${actions.length} actions`);
    const fromSource = sourceParamNames();
    const baseline = { writes: await world.writes() };
    const tally = new Tally();
    const started = Date.now();
    const authTried = new Set<string>();
    for (const action of actions) {
      const ids = await realIds(world.api, world.keys.admin!, action.template);
      const names = paramNamesFor(action.doc, fromSource.get(action.handler) ?? []);
      const firstOfPath = !authTried.has(action.template);
      authTried.add(action.template);
      const budget = {
        valuesPerAction: VALUES_PER_ACTION,
        authorizationsFrom: firstOfPath ? world.keys.user! : undefined,
      };
      for (const c of casesFor(action, names, budget)) {
        const outcome = await runCase(world, baseline, action, c, ids);
        tally.record(c.principal, categoryOf(c), outcome);
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `abuse fuzzer: ${tally.requests} requests over ${actions.length} actions in ${seconds} s ` +
        `(${(tally.requestMs / 1000).toFixed(1)} s waiting for replies; ${tally.restores} writes, ` +
        `each followed by a restore: ${(tally.restoreMs / 1000).toFixed(1)} s)\n` +
        tally.table(),
    );
    const unlisted = tally.failures.filter((f) => !KNOWN_FAILURES.some((k) => matches(k, f)));
    const stale = KNOWN_FAILURES.filter((k) => !tally.failures.some((f) => matches(k, f)));
    if (tally.failures.length > 0) {
      console.log(`failures (${tally.failures.length}, ${unlisted.length} not in the allowlist):`);
      for (const f of tally.failures) console.log(`  ${unlisted.includes(f) ? 'NEW ' : ''}${describeFailure(f)}`);
    }
    for (const k of KNOWN_FAILURES)
      console.log(`known: ${tally.failures.filter((f) => matches(k, f)).length} × ${k.finding}`);
    assert.deepEqual(
      {
        notInAllowlist: unlisted.map(describeFailure),
        allowlistedButGone: stale.map((k) => k.finding),
      },
      { notInAllowlist: [], allowlistedButGone: [] },
      'fix new failures (or list them in test/helpers/fuzz/allowlist.ts with the fix that will); remove entries that no longer happen',
    );
  });
});
