// The pieces `npm test` shares its lanes with (scripts/lanes.ts, scripts/e2e-labs.ts): items in
// order, never more at once than the lanes allow, more once widened, none once closed; output
// relayed in whole lines; the e2e files longest first. The labs themselves run in the full suite.
import assert from 'node:assert/strict';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { e2eFiles, lineRelay } from '../../scripts/e2e-labs';
import { LaneQueue } from '../../scripts/lanes';

/** A run per item that finishes only when the test says so. */
function held() {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const run = (item: string) =>
    new Promise<string>((resolve) => {
      started.push(item);
      release.set(item, () => resolve(`${item} done`));
    });
  const finish = async (item: string) => {
    release.get(item)!();
    await new Promise((r) => setImmediate(r));
  };
  return { started, run, finish };
}

describe('LaneQueue', () => {
  it('starts items in order, no more at once than its lanes', async () => {
    const h = held();
    const q = new LaneQueue(['a', 'b', 'c', 'd'], 2, h.run);
    assert.deepEqual(h.started, ['a', 'b']);
    await h.finish('b');
    assert.deepEqual(h.started, ['a', 'b', 'c']);
    assert.deepEqual(q.running(), ['a', 'c']);
    await h.finish('a');
    await h.finish('c');
    await h.finish('d');
    assert.deepEqual(await q.done, ['b done', 'a done', 'c done', 'd done']);
  });

  it('starts more when its lanes widen, and none past the last item', async () => {
    const h = held();
    const q = new LaneQueue(['a', 'b', 'c'], 1, h.run);
    assert.deepEqual(h.started, ['a']);
    q.setLanes(5);
    assert.deepEqual(h.started, ['a', 'b', 'c']);
    for (const item of ['c', 'a', 'b']) await h.finish(item);
    assert.equal((await q.done).length, 3);
  });

  it('starts nothing more once closed, and is done when the running ones end', async () => {
    const h = held();
    const q = new LaneQueue(['a', 'b', 'c'], 1, h.run);
    q.close();
    await h.finish('a');
    assert.deepEqual(h.started, ['a']);
    assert.deepEqual(await q.done, ['a done']);
  });

  it('is done at once with nothing to run, and fails when a run fails', async () => {
    assert.deepEqual(await new LaneQueue([], 2, () => Promise.resolve(1)).done, []);
    const q = new LaneQueue(['x'], 1, () => Promise.reject(new Error('lab broke')));
    await assert.rejects(q.done, /lab broke/);
  });
});

describe('lineRelay', () => {
  it('writes whole lines only, each after its tag, and the unfinished last one at the end', () => {
    const out = new PassThrough();
    const writes: string[] = [];
    out.on('data', (c: Buffer) => writes.push(c.toString()));
    const relay = lineRelay('[lab] ', out);
    relay.push('one\ntw');
    relay.push('o\nthree\nfo');
    relay.end();
    assert.deepEqual(writes, ['[lab] one\n', '[lab] two\n[lab] three\n', '[lab] fo\n']);
  });
});

describe('e2eFiles', () => {
  it('puts the longest labs first, then the rest by name', () => {
    const files = e2eFiles('test/e2e/');
    assert.deepEqual(
      files.slice(0, 5).map((f) => path.basename(f, '.test.ts')),
      ['ephemeral-deploy', 'real-image-uefi', 'real-image', 'network-deploy', 'rack-failover'],
    );
    const rest = files.slice(5);
    assert.deepEqual(rest, [...rest].sort());
    assert.ok(files.includes('test/e2e/pxe.test.ts'));
  });

  it('takes a path fragment as npm test does', () => {
    assert.deepEqual(e2eFiles('e2e/pxe'), ['test/e2e/pxe.test.ts']);
    assert.deepEqual(e2eFiles('test/unit'), []);
  });
});
