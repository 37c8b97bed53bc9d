import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from '../../../src/api/ui/login-throttle';

describe('login throttle', () => {
  it('refuses a key after maxFailures within the window, says for how long, and forgets after it', () => {
    let now = 1_000_000;
    const t = new LoginThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now });
    const keys = ['user:alice', 'ip:10.0.0.1'];
    for (let i = 0; i < 3; i++) {
      assert.equal(t.retryAfter(keys), 0);
      t.failed(keys);
      now += 1_000;
    }
    assert.equal(t.retryAfter(keys), 57, 'the oldest failure leaves the window 57 s from now');
    assert.equal(t.retryAfter(['user:bob', 'ip:10.0.0.1']), 57, 'the address is throttled for any username');
    assert.equal(t.retryAfter(['user:alice', 'ip:10.0.0.2']), 57, 'the username is throttled from any address');
    assert.equal(t.retryAfter(['user:bob', 'ip:10.0.0.2']), 0);
    t.succeeded(['user:alice']);
    assert.equal(t.retryAfter(['user:alice', 'ip:10.0.0.2']), 0, 'a success clears the username');
    assert.equal(t.retryAfter(['ip:10.0.0.1']), 57, 'not the address');
    now += 60_000;
    assert.equal(t.retryAfter(keys), 0);
  });

  it('remembers a bounded number of keys', () => {
    const t = new LoginThrottle({ maxFailures: 1, maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) t.failed([k]);
    assert.equal(t.retryAfter(['a']), 0, 'the oldest was forgotten');
    assert.ok(t.retryAfter(['c']) > 0);
  });

  it('reserve counts an attempt before it is checked, so no more than the limit go ahead at once; refund takes one back', () => {
    const t = new LoginThrottle({ maxFailures: 3, windowMs: 60_000, now: () => 1_000_000 });
    const keys = ['user:alice', 'ip:10.0.0.1'];
    assert.deepEqual(
      Array.from({ length: 5 }, () => t.reserve(keys)),
      [0, 0, 0, 60, 60],
      'three reserved, two refused',
    );
    t.refund(['ip:10.0.0.1']);
    assert.equal(t.reserve(['ip:10.0.0.1']), 0, 'a refunded attempt frees its place');
    assert.equal(t.reserve(['user:bob', 'ip:10.0.0.1']), 60, 'a refused attempt counts against no key');
    assert.equal(t.reserve(['user:bob']), 0);
  });
});
