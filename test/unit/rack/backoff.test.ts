// The rack's one backoff module and MAAS's power retries built on it. Zero-length schedules keep
// these tests instant; what is checked is who gets retried, how often, and what is thrown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryOnSchedule, sleep } from '../../../src/rack/backoff';
import type { PowerState } from '../../../src/contracts/workflows';
import { PowerError } from '../../../src/rack/power/driver';
import { awaitState, oneBmcAttempt, withRetries } from '../../../src/rack/power/retries';

const failing = (errors: unknown[], value = 'ok') => {
  let calls = 0;
  const fn = async () => {
    const err = errors[calls++];
    if (err !== undefined) throw err;
    return value;
  };
  return { fn, calls: () => calls };
};

describe('rack backoff', () => {
  it('retryOnSchedule: one attempt more than waits, then the last error (or onExhausted)', async () => {
    const boom = new Error('boom');
    const f = failing([boom, boom, boom, boom]);
    await assert.rejects(retryOnSchedule([0, 0], f.fn, { isRetryable: () => true }), boom);
    assert.equal(f.calls(), 3);
    const g = failing([boom, boom, boom]);
    await assert.rejects(
      retryOnSchedule([0, 0], g.fn, { isRetryable: () => true, onExhausted: (_e, n) => new Error(`after ${n}`) }),
      /after 3/,
    );
  });

  it('retryOnSchedule: an error not worth retrying is thrown at once; success returns', async () => {
    const fatal = new Error('fatal');
    const f = failing([fatal]);
    await assert.rejects(retryOnSchedule([0, 0], f.fn, { isRetryable: (e) => e !== fatal }), fatal);
    assert.equal(f.calls(), 1);
    const retried: number[] = [];
    const g = failing([new Error('once')]);
    assert.equal(
      await retryOnSchedule([0], g.fn, { isRetryable: () => true, onRetry: (_e, n) => retried.push(n) }),
      'ok',
    );
    assert.deepEqual(retried, [1]);
  });

  it('sleep rejects with the signal reason when aborted, before or during the wait', async () => {
    const reason = new Error('cancelled');
    await assert.rejects(sleep(0, AbortSignal.abort(reason)), reason);
    const ac = new AbortController();
    const waiting = sleep(60_000, ac.signal);
    ac.abort(reason);
    await assert.rejects(waiting, reason);
  });

  it('withRetries (power): retries only retryable PowerErrors and says how often it tried', async () => {
    const lines: string[] = [];
    const f = failing([
      PowerError.retryable('no answer'),
      PowerError.retryable('no answer'),
      PowerError.retryable('no answer'),
    ]);
    await assert.rejects(
      withRetries('ipmi on', [0, 0], new AbortController().signal, (l) => lines.push(l), f.fn),
      (err) => {
        assert.ok(err instanceof PowerError && err.retryable);
        assert.match(err.message, /no answer \(ipmi on: gave up after 3 attempts\)/);
        return true;
      },
    );
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /attempt 1\/3 failed/);
    const g = failing([PowerError.fatal('bad password')]);
    await assert.rejects(
      withRetries('ipmi on', [0, 0], new AbortController().signal, () => {}, g.fn),
      /bad password/,
    );
    assert.equal(g.calls(), 1);
  });

  it('oneBmcAttempt: a withRetries inside makes one attempt and rethrows the error as it is', async () => {
    const lines: string[] = [];
    const f = failing([PowerError.retryable('no answer'), PowerError.retryable('no answer')]);
    const signal = new AbortController().signal;
    await assert.rejects(
      oneBmcAttempt(() => withRetries('ipmi on', [0, 0], signal, (l) => lines.push(l), f.fn)),
      (err) => err instanceof PowerError && err.retryable && err.message === 'no answer',
    );
    assert.equal(f.calls(), 1);
    assert.deepEqual(lines, []);
    // Outside the scope (the API's power calls), the schedule applies again.
    assert.equal(await withRetries('ipmi on', [0, 0], signal, () => {}, f.fn), 'ok');
    assert.equal(f.calls(), 3);
  });

  it('awaitState polls on the schedule until the BMC reports the state asked for', async () => {
    const states = ['off', 'off', 'on'] as const;
    let i = 0;
    assert.equal(await awaitState('on', 'on', [0, 0, 0], new AbortController().signal, async () => states[i++]!), 'on');
    await assert.rejects(
      awaitState('on', 'on', [0], new AbortController().signal, async () => 'off'),
      /still off, not on/,
    );
  });

  it('awaitState: a poll that fails retryably is "not there yet", even under oneBmcAttempt (issue 21)', async () => {
    const signal = new AbortController().signal;
    const answers: Array<PowerState | PowerError> = [PowerError.retryable('BMC did not answer.'), 'off', 'on'];
    let i = 0;
    const query = async () => {
      const a = answers[i++]!;
      if (a instanceof PowerError) throw a;
      return a;
    };
    assert.equal(await oneBmcAttempt(() => awaitState('on', 'on', [0, 0, 0], signal, query)), 'on');
    // The last poll failing: the error says the state could not be read, and why.
    await assert.rejects(
      oneBmcAttempt(() =>
        awaitState('on', 'on', [0], signal, async () => {
          throw PowerError.retryable('BMC did not answer.');
        }),
      ),
      (err) => err instanceof PowerError && err.retryable && /could not be read: BMC did not answer/.test(err.message),
    );
    // A fatal error still ends the wait at once.
    let polls = 0;
    await assert.rejects(
      awaitState('on', 'on', [0, 0], signal, async () => {
        polls++;
        throw PowerError.fatal('wrong password');
      }),
      /wrong password/,
    );
    assert.equal(polls, 1);
  });
});
