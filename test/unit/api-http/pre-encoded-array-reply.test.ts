// Reply.preEncodedJsonArray (GET machines/ from kept JSON, issue 17): the same bytes as one
// JSON array, in pieces of bounded size with the event loop given back between them, so a 60 MB
// listing made of bytes already in memory neither holds other requests nor buffers itself whole.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type Koa from 'koa';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { PieceBuffers } from '../../../src/api/http/piece-buffers';
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

/** /large: 4,000 elements of ~1 KiB, about 16 pieces. */
const LARGE_PAD = 1000;

/** GET /large over the Unix socket, read slowly: a pause after every 64 KiB. */
function readSlowly(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: path.join(socketDir, 'sock'), path: '/large' }, (res) => {
        const got: Buffer[] = [];
        let sincePause = 0;
        res.on('data', (chunk: Buffer) => {
          got.push(chunk);
          sincePause += chunk.length;
          if (sincePause >= 64 * 1024) {
            sincePause = 0;
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on('end', () => resolve(Buffer.concat(got)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function configure(app: Koa): void {
  app.use(errorBoundary({ log: () => undefined }));
  app.on('error', () => undefined); // the failed pipe of /fails-later; expected
  app.use(async (ctx) =>
    sendResult(
      ctx,
      await Reply.preEncodedJsonArray(
        ctx.path === '/fails-later'
          ? failsLater()
          : ctx.path === '/large'
            ? chunks(
                Array.from({ length: 8 }, () => 500),
                LARGE_PAD,
              )
            : chunks([0, 2, 0, 3]),
      ),
    ),
  );
}

let server: Served;
/** The same app on a Unix socket: its kernel buffers (~200 KiB) hold back what a slow reader leaves. */
let socketServer: Served;
let socketDir: string;
before(async () => {
  server = await serve(configure);
  socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pieces-'));
  socketServer = await serve(configure, { socketPath: path.join(socketDir, 'sock') });
});
after(async () => {
  await server.close();
  await socketServer.close();
  fs.rmSync(socketDir, { recursive: true, force: true });
});

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

  it('copies pieces into buffers it uses again once the response has written them, bytes intact', async (t) => {
    // A buffer is known by its memory: take() hands out a view of it each time.
    const memory = new Map<ArrayBufferLike, number>();
    const given = new Set<string>();
    let pieces = 0;
    const take = PieceBuffers.prototype.take;
    t.mock.method(PieceBuffers.prototype, 'take', function (this: PieceBuffers, size: number) {
      const piece = take.call(this, size);
      if (!memory.has(piece.buffer)) memory.set(piece.buffer, memory.size);
      given.add(`${memory.get(piece.buffer)}@${piece.byteOffset}`);
      pieces++;
      return piece;
    });
    const want = `[${Array.from({ length: 4000 }, (_, i) => Buffer.concat(element(i, LARGE_PAD)).toString()).join(',')}]`;
    // Read slowly over a Unix socket (the response holds bytes back most of the time), then at once.
    for (const read of [
      readSlowly,
      async () => Buffer.from(await (await fetch(`${server.url}/large`)).arrayBuffer()),
    ]) {
      given.clear();
      pieces = 0;
      assert.equal((await read()).toString(), want);
      assert.ok(pieces >= 15, `${pieces} pieces`);
      assert.ok(given.size < pieces / 2, `${given.size} buffers for ${pieces} pieces`);
    }
  });
});

describe('PieceBuffers', () => {
  const memoryOf = (b: Buffer) => [b.buffer, b.byteOffset];

  it('uses nothing twice until it knows the response', () => {
    const buffers = new PieceBuffers();
    const a = buffers.take(100);
    const b = buffers.take(100);
    assert.notDeepEqual(memoryOf(a), memoryOf(b));
    assert.equal(a.length, 100);
    assert.equal(buffers.made, 2);
  });

  it('never gives back a buffer whose piece the response has not written, and does reuse', () => {
    // A response as the stream feeds it: every piece but the newest given to it, its socket
    // writing at its own pace, some framing on top. Random piece sizes and write progress.
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const buffers = new PieceBuffers();
      const pieces: Array<{ memory: ArrayBufferLike; offset: number; end: number }> = [];
      let flushed = 0;
      const given = () => (pieces.length > 1 ? pieces[pieces.length - 2]!.end : 0);
      const response = {
        get writableLength() {
          return given() - flushed + (given() > flushed ? 5 : 0);
        },
      };
      buffers.writtenTo(response);
      for (let n = 0; n < 40; n++) {
        flushed = Math.min(given(), flushed + Math.floor(random() * 3 * PIECE_BYTES));
        const size = 1 + Math.floor(random() * PIECE_BYTES);
        const piece = buffers.take(size);
        assert.equal(piece.length, size);
        const start = pieces.length ? pieces[pieces.length - 1]!.end : 0;
        for (const p of pieces)
          if (p.memory === piece.buffer && p.offset === piece.byteOffset)
            assert.ok(
              p.end <= flushed && p !== pieces[pieces.length - 1],
              `round ${round}: a buffer given back too soon`,
            );
        pieces.push({ memory: piece.buffer, offset: piece.byteOffset, end: start + size });
      }
      assert.ok(buffers.made < 40, `round ${round}: ${buffers.made} buffers for 40 pieces`);
    }
  });
});
