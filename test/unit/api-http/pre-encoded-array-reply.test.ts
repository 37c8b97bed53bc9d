// Reply.preEncodedJsonArray (GET machines/ from kept JSON, issue 17): the same bytes as one
// JSON array, in pieces of bounded size with the event loop given back between them, so a 60 MB
// listing made of bytes already in memory neither holds other requests nor buffers itself whole.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { PIECE_BYTES, Reply, sendResult } from '../../../src/api/http/reply';
import { serve, type Served } from './serve';

/** Element i as JSON split into two buffers, as the listing cache keeps a machine. */
const element = (i: number, pad = 0): Buffer[] => [
  Buffer.from(`{"n":${i},"pad":"`),
  Buffer.from(`${'x'.repeat(pad)}"}`),
];

async function* chunks(sizes: number[], pad = 0): AsyncGenerator<Buffer[][]> {
  let n = 0;
  for (const size of sizes) yield Array.from({ length: size }, () => element(n++, pad));
}

async function* failsLater(): AsyncGenerator<Buffer[][]> {
  yield [element(1)];
  throw new Error('connection lost mid-listing');
}

let server: Served;
before(async () => {
  server = await serve((app) => {
    app.use(errorBoundary({ log: () => undefined }));
    app.on('error', () => undefined); // the failed pipe of /fails-later; expected
    app.use(async (ctx) =>
      sendResult(
        ctx,
        await Reply.preEncodedJsonArray(ctx.path === '/fails-later' ? failsLater() : chunks([0, 2, 0, 3])),
      ),
    );
  });
});
after(() => server.close());

describe('Reply.preEncodedJsonArray', () => {
  it('sends the elements as one JSON array, skipping empty chunks', async () => {
    const r = await fetch(`${server.url}/fine`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(await r.text(), `[${[0, 1, 2, 3, 4].map((i) => `{"n":${i},"pad":""}`).join(',')}]`);
  });

  it('an empty source is an empty array', async () => {
    const body = (await Reply.preEncodedJsonArray(chunks([0, 0]))).body as Readable;
    assert.equal((await body.toArray()).join(''), '[]');
  });

  it('a source failing after the first chunk makes the client read fail', async () => {
    const r = await fetch(`${server.url}/fails-later`);
    assert.equal(r.status, 200);
    await assert.rejects(r.text());
  });

  it('writes a large chunk in bounded pieces, with the event loop turning between them', async () => {
    // 2,000 elements of ~2 KiB in one chunk (as a chunk of kept machines arrives: no I/O at all).
    const pad = 2000;
    const body = (await Reply.preEncodedJsonArray(chunks([2000], pad))).body as Readable;
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const pieces: Buffer[] = [];
    const turnsAtPiece: number[] = [];
    for await (const piece of body) {
      pieces.push(Buffer.from(piece as Buffer | string));
      turnsAtPiece.push(turns);
    }
    spinning = false;
    const text = Buffer.concat(pieces).toString();
    // Byte for byte the elements joined, across every piece boundary.
    const want = `[${Array.from({ length: 2000 }, (_, i) => Buffer.concat(element(i, pad)).toString()).join(',')}]`;
    assert.equal(text, want);
    assert.ok(pieces.length >= Math.floor(text.length / PIECE_BYTES), `${pieces.length} pieces`);
    const largestElement = element(0, pad).reduce((n, b) => n + b.length, 1);
    for (const piece of pieces) assert.ok(piece.length < PIECE_BYTES + largestElement, `a piece of ${piece.length}`);
    // Other callbacks ran between every two pieces: the assembly never held the loop throughout.
    for (let i = 1; i < turnsAtPiece.length; i++)
      assert.ok(turnsAtPiece[i]! > turnsAtPiece[i - 1]!, `no turn of the event loop before piece ${i}`);
  });
});
