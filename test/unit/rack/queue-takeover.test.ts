import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoveredQueues } from '../../../src/contracts/rack-api';
import { queueTakeoverLoop } from '../../../src/rack/queue-takeover';
import { RegionError } from '../../../src/rack/region-client';
import { until } from './stand-in-region';

const dead = (name: string) => ({ rackSystemId: `id-${name}`, rackName: name, taskQueue: `rack:id-${name}` });

describe('rack queue takeover', () => {
  it('serves a silent partner’s queue while the region names it, and stops when it no longer does', async () => {
    let answer: CoveredQueues | Error = { queues: [] };
    const asked: string[] = [];
    const started: string[] = [];
    const stopped: string[] = [];
    const log: string[] = [];
    const stopping = new AbortController();
    const takeover = queueTakeoverLoop(
      {
        region: {
          coveredQueues: async (rack) => {
            asked.push(rack);
            if (answer instanceof Error) throw answer;
            return answer;
          },
        },
        rackSystemId: () => 'me',
        everyMs: 5,
        startWorker: async (queue) => {
          started.push(queue);
          return { stop: async () => void stopped.push(queue) };
        },
        log: (l) => log.push(l),
      },
      stopping.signal,
    );
    await until(() => asked.length >= 2);
    assert.deepEqual(started, [], 'nothing to cover while every partner is heard from');

    answer = { queues: [dead('rack-1')] };
    await until(() => started.length === 1);
    assert.deepEqual(takeover.covering(), ['rack:id-rack-1']);
    assert.ok(log.includes('rack rack-1 is silent: serving its task queue rack:id-rack-1 too'), log.join('\n'));

    // The region unreachable: keep covering (the dead rack is no less dead), log once.
    answer = new RegionError('Region unreachable', true);
    const before = asked.length;
    await until(() => asked.length >= before + 3);
    assert.deepEqual(takeover.covering(), ['rack:id-rack-1']);
    assert.equal(log.filter((l) => l.startsWith('covered task queues:')).length, 1);
    assert.equal(started.length, 1, 'one worker per queue, not one per poll');

    answer = { queues: [] };
    await until(() => stopped.length === 1);
    assert.deepEqual(takeover.covering(), []);
    assert.ok(log.some((l) => l.includes('no longer serving task queue rack:id-rack-1')));

    answer = { queues: [dead('rack-2')] };
    await until(() => started.length === 2);
    stopping.abort();
    await takeover.done;
    assert.deepEqual(stopped, ['rack:id-rack-1', 'rack:id-rack-2'], 'stopping the rack stops its covering workers');
  });

  it('a worker that cannot start is tried again at the next poll', async () => {
    let attempts = 0;
    const stopping = new AbortController();
    const takeover = queueTakeoverLoop(
      {
        region: { coveredQueues: async () => ({ queues: [dead('rack-1')] }) },
        rackSystemId: () => 'me',
        everyMs: 5,
        startWorker: async () => {
          if (++attempts === 1) throw new Error('Temporal unreachable');
          return { stop: async () => undefined };
        },
        log: () => undefined,
      },
      stopping.signal,
    );
    await until(() => takeover.covering().length === 1);
    assert.equal(attempts, 2);
    stopping.abort();
    await takeover.done;
  });

  it('does not ask while its own heartbeats have not gone through for the failover delay (after a region outage every rack looks silent)', async () => {
    let trusted = false;
    let asked = 0;
    let polls = 0;
    const stopping = new AbortController();
    const takeover = queueTakeoverLoop(
      {
        region: {
          coveredQueues: async () => {
            asked++;
            return { queues: [dead('rack-1')] };
          },
        },
        rackSystemId: () => 'me',
        everyMs: 5,
        mayAsk: () => {
          polls++;
          return trusted;
        },
        startWorker: async () => ({ stop: async () => undefined }),
        log: () => undefined,
      },
      stopping.signal,
    );
    await until(() => polls >= 3);
    assert.equal(asked, 0, 'the region is not asked, so it records no failover events');
    assert.deepEqual(takeover.covering(), []);
    trusted = true;
    await until(() => takeover.covering().length === 1);
    stopping.abort();
    await takeover.done;
  });
});
