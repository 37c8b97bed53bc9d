// Reply.jsonArray never sends a 200 that looks complete but is not: a source failing before its
// first chunk is an ordinary error reply; one failing later ends the connection so the client's
// read fails; a client that leaves stops the source.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serviceUnavailable } from '../../../src/api/http/errors';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { Reply, sendResult } from '../../../src/api/http/reply';
import { serve, type Served } from './serve';

let server: Served;
let closedSources = 0;
let releaseSlow: () => void = () => undefined;

const failsAtOnce = (): AsyncIterable<unknown[]> => ({
  [Symbol.asyncIterator]: () => ({
    next: () => Promise.reject(serviceUnavailable('The database stopped this request (statement timeout).')),
  }),
});
async function* failsLater(): AsyncGenerator<unknown[]> {
  yield [{ n: 1 }, { n: 2 }];
  throw new Error('connection lost mid-listing');
}
async function* fine(): AsyncGenerator<unknown[]> {
  yield [];
  yield [{ n: 1 }];
  yield [];
  yield [{ n: 2 }, { n: 3 }];
}
async function* slow(): AsyncGenerator<unknown[]> {
  try {
    yield [{ n: 1 }];
    await new Promise<void>((resolve) => (releaseSlow = resolve));
    yield [{ n: 2 }];
  } finally {
    closedSources++;
  }
}
async function* empty(): AsyncGenerator<unknown[]> {}

const SOURCES: Record<string, () => AsyncIterable<unknown[]>> = {
  '/fails-at-once': failsAtOnce,
  '/fails-later': failsLater,
  '/fine': fine,
  '/slow': slow,
  '/empty': empty,
};

before(async () => {
  server = await serve((app) => {
    app.use(errorBoundary({ log: () => undefined }));
    app.on('error', () => undefined); // Koa reports the failed pipe; expected here
    app.use(async (ctx) => sendResult(ctx, await Reply.jsonArray(SOURCES[ctx.path]!())));
  });
});
after(() => server.close());

describe('Reply.jsonArray', () => {
  it('streams the chunks as one JSON array, skipping empty ones', async () => {
    const r = await fetch(`${server.url}/fine`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.deepEqual(await (await fetch(`${server.url}/empty`)).json(), []);
  });

  it('a source that fails before its first chunk is an error reply, not a cut-off 200', async () => {
    const r = await fetch(`${server.url}/fails-at-once`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /statement timeout/);
  });

  it('a source that fails after the first chunk makes the client read fail', async () => {
    const r = await fetch(`${server.url}/fails-later`);
    assert.equal(r.status, 200);
    await assert.rejects(r.text());
  });

  it('a client that leaves mid-stream closes the source', async () => {
    const controller = new AbortController();
    const r = await fetch(`${server.url}/slow`, { signal: controller.signal });
    assert.equal(r.status, 200);
    controller.abort();
    await assert.rejects(r.text());
    releaseSlow();
    for (let i = 0; i < 200 && closedSources === 0; i++) await new Promise((res) => setTimeout(res, 25));
    assert.equal(closedSources, 1);
  });
});
