// Self-fencing (docs/adr/0005-rack-failover.md): a rack cut off from the region stops serving
// Temporal before its partner may take over, aborting what it runs, and serves again once heard.
import { ApplicationFailure } from '@temporalio/activity';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRackActivities } from '../../../src/activities/rack';
import type { PowerConfig } from '../../../src/contracts/rack-api';
import type { PowerState } from '../../../src/contracts/workflows';
import { RACK_FAILOVER_AFTER_S } from '../../../src/contracts/rack-api';
import { BootCache } from '../../../src/rack/boot-cache';
import type { PowerDriver } from '../../../src/rack/power/driver';
import { createPowerRegistry } from '../../../src/rack/power/registry';
import { queueTakeoverLoop } from '../../../src/rack/queue-takeover';
import { mustFence, RACK_FENCED_ERROR, SELF_FENCE_AFTER_S, SelfFence } from '../../../src/rack/self-fence';
import { until } from './stand-in-region';

function fenceWithClock() {
  let now = 0;
  const calls: string[] = [];
  const fence = new SelfFence(
    {
      fence: async () => void calls.push('fence'),
      unfence: async () => void calls.push('unfence'),
      log: () => undefined,
      now: () => now,
    },
    0,
  );
  return { fence, calls, at: (s: number) => (now = s * 1000) };
}

describe('rack self-fence', () => {
  it('fences before the partner may take over: 30 s after the last heartbeat that went through', () => {
    assert.equal(SELF_FENCE_AFTER_S, 30);
    assert.ok(SELF_FENCE_AFTER_S < RACK_FAILOVER_AFTER_S - 10, 'a margin for aborting and one partner poll');
    assert.equal(mustFence(0, 29_999), false);
    assert.equal(mustFence(0, 30_000), true);
  });

  it('aborts running activities and stops polling once, and serves again when a heartbeat goes through', async () => {
    const { fence, calls, at } = fenceWithClock();
    const first = fence.signal;
    at(29);
    await fence.check();
    assert.deepEqual(calls, []);
    assert.equal(first.aborted, false);

    at(30);
    await fence.check();
    await fence.check();
    assert.deepEqual(calls, ['fence'], 'fenced once');
    assert.ok(fence.isFenced());
    assert.ok(first.reason instanceof ApplicationFailure);
    assert.equal(first.reason.type, RACK_FENCED_ERROR);
    assert.equal(first.reason.nonRetryable, false, 'retryable: the partner runs the retry');

    // A heartbeat answered now but sent 35 s ago proves nothing about the region's last_seen since.
    at(40);
    await fence.heard(5_000);
    assert.ok(fence.isFenced());
    assert.deepEqual(calls, ['fence']);

    await fence.heard(39_000);
    assert.equal(fence.isFenced(), false);
    assert.deepEqual(calls, ['fence', 'unfence']);
    assert.equal(fence.signal.aborted, false, 'a fresh signal for the activities that run from now');
  });

  it('a fenced rack ends its running power action with the fence’s retryable failure', async () => {
    const { fence, at } = fenceWithClock();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const hanging: PowerDriver = {
      name: 'hanging',
      queryable: false,
      on: (_cfg: PowerConfig, signal: AbortSignal) =>
        new Promise<PowerState>((_, reject) => {
          started();
          signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
      off: async () => 'off',
      cycle: async () => 'on',
      query: async () => 'unknown',
    };
    const activities = createRackActivities({
      region: {
        powerConfig: async (systemId) => ({ systemId, powerType: 'hanging', parameters: {}, netboot: false }),
        bootConfig: async () => assert.fail('not used'),
      },
      drivers: createPowerRegistry(() => undefined, [hanging]),
      bootCache: new BootCache(),
      fenceSignal: () => fence.signal,
    });
    const on = activities.powerOn({ systemId: 'm1', retriedByTemporal: true });
    await running;
    at(30);
    await fence.check();
    await assert.rejects(on, (err) => err instanceof ApplicationFailure && err.type === RACK_FENCED_ERROR);
    // Picked up while fenced (before the worker stopped): fails at once, the BMC untouched.
    await assert.rejects(
      activities.powerOff({ systemId: 'm1' }),
      (err) => (err as ApplicationFailure).type === RACK_FENCED_ERROR,
    );
  });

  it('queue takeover: release() stops every covering worker and none starts while fenced', async () => {
    let fenced = false;
    const stopped: string[] = [];
    const stopping = new AbortController();
    const takeover = queueTakeoverLoop(
      {
        region: {
          coveredQueues: async () => ({ queues: [{ rackSystemId: 'b', rackName: 'rack-b', taskQueue: 'rack:b' }] }),
        },
        rackSystemId: () => 'me',
        everyMs: 5,
        mayAsk: () => !fenced,
        startWorker: async (queue) => ({ stop: async () => void stopped.push(queue) }),
        log: () => undefined,
      },
      stopping.signal,
    );
    await until(() => takeover.covering().length === 1);
    fenced = true;
    await takeover.release();
    assert.deepEqual(takeover.covering(), []);
    assert.deepEqual(stopped, ['rack:b']);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(takeover.covering(), [], 'not covering again while fenced');
    fenced = false;
    await until(() => takeover.covering().length === 1);
    stopping.abort();
    await takeover.done;
  });
});
