// A machine's operation step asked of its workflow at most once every few seconds (issue 21
// review): polling a deploying machine's GET cost one workflow query (up to 1 s, a replay when
// not cached) per read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MachineStatus as S } from '../../../src/contracts/lifecycle';
import type { OperationStep } from '../../../src/contracts/workflows';
import { MachineOperations } from '../../../src/region/services/machine-operations';
import { STEP_CACHE_TTL_MS, StepCache } from '../../../src/region/services/step-cache';

/** A clock the test moves, and an ask that counts its calls. */
function setup(ttl = 3_000, max = 100) {
  let now = 1_000_000;
  const cache = new StepCache<string | null>(ttl, max, () => now);
  const asked: string[] = [];
  const ask = (key: string, answer: string | null = `step of ${key}`) => {
    asked.push(key);
    return Promise.resolve(answer);
  };
  return { cache, asked, ask, tick: (ms: number) => (now += ms) };
}

describe('step cache', () => {
  it('asks once per key within the TTL, again after it', async () => {
    const { cache, asked, ask, tick } = setup();
    assert.equal(await cache.get('a', () => ask('a')), 'step of a');
    tick(2_999);
    assert.equal(await cache.get('a', () => ask('a')), 'step of a');
    assert.deepEqual(asked, ['a']);
    tick(1);
    await cache.get('a', () => ask('a'));
    assert.deepEqual(asked, ['a', 'a']);
  });

  it('keys are separate; reads during a running ask share it', async () => {
    const { cache, asked, ask } = setup();
    let release: (v: string) => void = () => {};
    const slow = new Promise<string>((resolve) => {
      release = resolve;
    });
    const first = cache.get('a', () => {
      asked.push('a');
      return slow;
    });
    const second = cache.get('a', () => ask('a'));
    await cache.get('b', () => ask('b'));
    release('waiting');
    assert.deepEqual(await Promise.all([first, second]), ['waiting', 'waiting']);
    assert.deepEqual(asked, ['a', 'b']);
  });

  it('remembers "no answer" (a worker down costs the 1 s limit once per TTL), not a failed ask', async () => {
    const { cache, asked, ask } = setup();
    assert.equal(await cache.get('a', () => ask('a', null)), null);
    assert.equal(await cache.get('a', () => ask('a')), null);
    const failing = () => {
      asked.push('b');
      return Promise.reject(new Error('boom'));
    };
    await assert.rejects(cache.get('b', failing));
    assert.equal(await cache.get('b', () => ask('b')), 'step of b');
    assert.deepEqual(asked, ['a', 'b', 'b']);
  });

  it('is bounded: expired entries and then the oldest go', async () => {
    const { cache, asked, ask, tick } = setup(3_000, 3);
    for (const k of ['a', 'b', 'c', 'd']) await cache.get(k, () => ask(k));
    assert.equal(cache.size, 3);
    await cache.get('a', () => ask('a')); // the oldest went to make room for d
    assert.deepEqual(asked, ['a', 'b', 'c', 'd', 'a']);
    tick(3_000);
    await cache.get('e', () => ask('e')); // all expired: only e stays
    assert.equal(cache.size, 1);
  });
});

describe('a machine read polled mid-operation', () => {
  it('asks its workflow once for reads within the TTL; a new operation (status) asks again', async () => {
    const machine = { id: 1, systemId: 'abc123', workflowId: 'machine:abc123', status: S.DEPLOYING as S };
    const queries = { get: async () => ({ machine }) };
    const asked: string[] = [];
    const step: OperationStep = { step: 'wait for the installation', deadline: null, lastHeardAt: null };
    const workflows = {
      step: async (id: string) => {
        asked.push(id);
        return step;
      },
    };
    const ops = new MachineOperations({} as never, queries as never, {} as never, {} as never, {} as never, workflows);
    for (let i = 0; i < 5; i++) assert.deepEqual((await ops.read(null, 'abc123')).operationStep, step);
    assert.deepEqual(asked, ['machine:abc123']);
    machine.status = S.RELEASING;
    await ops.read(null, 'abc123');
    assert.equal(asked.length, 2);
    assert.ok(STEP_CACHE_TTL_MS >= 1_000 && STEP_CACHE_TTL_MS <= 5_000);
  });
});
