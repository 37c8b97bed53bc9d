// A caller's listings past the cap wait their turn in a short queue, in order; past the queue, past
// the wait, or when the request goes away, they are refused. Other callers are never held up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryAbandonedError, TooManyRequestsError } from '../../../src/region/errors';
import { ListingLimiter } from '../../../src/region/services/listing-limiter';

const settled = async (p: Promise<unknown>) => {
  let state = 'pending';
  p.then(
    () => (state = 'fulfilled'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('ListingLimiter', () => {
  it('runs perCaller listings at once per caller; the next waits and takes the slot a leaving one hands over', async () => {
    const limiter = new ListingLimiter(1, { length: 2, maxWaitMs: 60_000 });
    const leaveA = await limiter.enter('alice');
    const leaveB = await limiter.enter('bob'); // another caller is not held up
    const second = limiter.enter('alice');
    const third = limiter.enter('alice');
    assert.equal(await settled(second), 'pending');
    leaveA();
    assert.equal(await settled(second), 'fulfilled');
    assert.equal(await settled(third), 'pending', 'the slot went to the first waiter only');
    // A newcomer cannot jump the queue while the slot is handed over.
    leaveA(); // leaving twice changes nothing
    assert.equal(await settled(third), 'pending');
    (await second)();
    assert.equal(await settled(third), 'fulfilled');
    (await third)();
    leaveB();
    const again = await limiter.enter('alice'); // all slots free again
    again();
  });

  it('refuses with 429 past the queue, and after waiting too long', async () => {
    const limiter = new ListingLimiter(1, { length: 1, maxWaitMs: 20 });
    const leave = await limiter.enter('alice');
    const waiting = limiter.enter('alice');
    await assert.rejects(limiter.enter('alice'), TooManyRequestsError, 'past the queue: at once');
    await assert.rejects(
      waiting,
      (err: unknown) => err instanceof TooManyRequestsError && /within 20 ms/.test(err.message),
    );
    leave();
    (await limiter.enter('alice'))();
  });

  it('a request that goes away leaves the queue', async () => {
    const limiter = new ListingLimiter(1, { length: 1, maxWaitMs: 60_000 });
    const leave = await limiter.enter('alice');
    const controller = new AbortController();
    const waiting = limiter.enter('alice', controller.signal);
    controller.abort();
    await assert.rejects(waiting, QueryAbandonedError);
    const next = limiter.enter('alice'); // its place in the queue is free again
    leave();
    (await next)();
  });
});
