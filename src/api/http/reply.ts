// How handler results become HTTP responses. A plain value is JSON with status 200; a Reply says
// otherwise (201, 204, text, bytes). Content types are set explicitly because Koa would append
// "; charset=utf-8" to JSON, and the `maas` CLI rejects describe/ unless it reads exactly
// "application/json".
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import type Koa from 'koa';
import { APPLICATION_JSON, type ApiError, TEXT_PLAIN } from './errors';
import { type FlushingResponse, PieceBuffers } from './piece-buffers';

export class Reply {
  constructor(
    readonly status: number,
    /** A string or Buffer is sent as-is; anything else as JSON; undefined sends no body. */
    readonly body: unknown,
    readonly contentType?: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** Told the response a stream body is about to be piped to (see preEncodedJsonArray). */
    readonly respondingTo?: (response: FlushingResponse) => void,
  ) {}

  static json(body: unknown, status = 200): Reply {
    return new Reply(status, body, APPLICATION_JSON);
  }
  static created(body: unknown): Reply {
    return Reply.json(body, 201);
  }
  static noContent(): Reply {
    return new Reply(204, undefined);
  }
  static text(body: string, status = 200): Reply {
    return new Reply(status, body, TEXT_PLAIN);
  }
  /**
   * A JSON array written element by element as the source yields them (large listings). The
   * first chunk is read before the status is chosen, so a source that fails at once (a filter
   * the database refuses, a timeout, a limit) is an ordinary error reply, not a 200 cut short.
   * A failure after that ends the connection without the closing chunk of the chunked encoding,
   * which every client reports as an error, never as a complete array.
   */
  static async jsonArray(items: AsyncIterable<unknown[]>): Promise<Reply> {
    return Reply.encodedJsonArray(items, (chunk) => chunk.map((item) => JSON.stringify(item)).join(','));
  }

  /**
   * jsonArray of elements already encoded: each element is a JSON text given as the buffers that
   * make it up. They are copied into pieces of about PIECE_BYTES, with the event loop given back
   * between pieces and at most one piece read ahead of the socket: a 60 MB listing made of kept
   * bytes would otherwise be assembled in one go, holding every other request (issue 17: `GET
   * version/` behind a listing) and tens of MB per listing in memory.
   */
  static async preEncodedJsonArray(items: AsyncIterable<Buffer[][]>): Promise<Reply> {
    const iterator = items[Symbol.asyncIterator]();
    const first = await firstNonEmpty(iterator);
    const buffers = new PieceBuffers();
    const stream = Readable.from(boundedPieces(iterator, first, buffers), { highWaterMark: 1 });
    stream.once('close', () => void iterator.return?.(undefined).catch(() => undefined));
    return new Reply(200, stream, APPLICATION_JSON, {}, (response) => buffers.writtenTo(response));
  }

  private static async encodedJsonArray<T>(
    items: AsyncIterable<T[]>,
    encode: (chunk: T[]) => string | Buffer,
  ): Promise<Reply> {
    const iterator = items[Symbol.asyncIterator]();
    const first = await firstNonEmpty(iterator);
    const stream = Readable.from(jsonArrayChunks(iterator, first, encode));
    // Readable.from closes only the wrapper; the source (which may hold a database connection
    // and a per-user slot) must be told too, also when the client left before the first read.
    stream.once('close', () => void iterator.return?.(undefined).catch(() => undefined));
    return new Reply(200, stream, APPLICATION_JSON);
  }
  static bytes(body: Buffer, contentType = 'application/octet-stream', status = 200): Reply {
    return new Reply(status, body, contentType);
  }
}

/** Writes a handler's return value: Reply as described, undefined → 204, anything else → JSON 200. */
export function sendResult(ctx: Koa.Context, result: unknown): void {
  if (result instanceof Reply) sendReply(ctx, result);
  else if (result === undefined) sendReply(ctx, Reply.noContent());
  else sendJson(ctx, 200, result);
}

/**
 * 204 with a Content-Type, as Django sends it: the `maas` CLI reads the type of every reply and
 * crashes on one without. Koa strips it from every 204, so this answer bypasses Koa's respond.
 */
function sendNoContent(ctx: Koa.Context): void {
  ctx.status = 204;
  ctx.respond = false;
  ctx.res.statusCode = 204;
  ctx.res.setHeader('Content-Type', 'text/html; charset=utf-8');
  ctx.res.end();
}

export function sendReply(ctx: Koa.Context, reply: Reply): void {
  for (const [name, value] of Object.entries(reply.headers)) ctx.set(name, value);
  if (reply.status === 204) return sendNoContent(ctx);
  if (reply.body === undefined) {
    ctx.status = reply.status;
    ctx.body = null;
    return;
  }
  if (reply.body instanceof Readable) {
    ctx.status = reply.status;
    ctx.set('Content-Type', reply.contentType ?? APPLICATION_JSON);
    ctx.body = reply.body;
    reply.respondingTo?.(ctx.res);
    return;
  }
  if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) {
    write(
      ctx,
      reply.status,
      reply.contentType ?? (typeof reply.body === 'string' ? TEXT_PLAIN : 'application/octet-stream'),
      reply.body,
    );
    return;
  }
  write(ctx, reply.status, reply.contentType ?? APPLICATION_JSON, JSON.stringify(reply.body));
}

export function sendJson(ctx: Koa.Context, status: number, value: unknown): void {
  write(ctx, status, APPLICATION_JSON, JSON.stringify(value));
}

export function sendText(ctx: Koa.Context, status: number, text: string): void {
  write(ctx, status, TEXT_PLAIN, text);
}

export function sendApiError(ctx: Koa.Context, error: ApiError): void {
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
  write(ctx, error.status, error.contentType, body);
}

function write(ctx: Koa.Context, status: number, contentType: string, body: string | Buffer): void {
  ctx.status = status;
  // Set before the body: Koa only picks a content type itself when none is set.
  ctx.set('Content-Type', contentType);
  ctx.body = body;
}

async function* jsonArrayChunks<T>(
  iterator: AsyncIterator<T[]>,
  first: IteratorResult<T[]>,
  encode: (chunk: T[]) => string | Buffer,
): AsyncGenerator<string | Buffer> {
  if (first.done) {
    yield '[]';
    return;
  }
  yield '[';
  yield encode(first.value);
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    if (next.value.length === 0) continue;
    yield ',';
    yield encode(next.value);
  }
  yield ']';
}

/** The first chunk with something in it (or the end): read before the status is chosen. */
async function firstNonEmpty<T>(iterator: AsyncIterator<T[]>): Promise<IteratorResult<T[]>> {
  let first = await iterator.next();
  while (!first.done && first.value.length === 0) first = await iterator.next();
  return first;
}

/** About how many bytes of a pre-encoded array go to the socket at once (one copy, one write). */
export const PIECE_BYTES = 256 * 1024;

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/**
 * The array's bytes in pieces of PIECE_BYTES or a little more (an element is never split), each
 * one copy of the element buffers it joins, with a macrotask yield after each piece. The first
 * chunk goes out before the source is read further, as jsonArray's does.
 *
 * A piece is copied into a buffer from `buffers`, which gives one back once the response has
 * written it (piece-buffers.ts says why that is safe here: a Readable.from of highWaterMark 1,
 * piped to the response, holds back at most the newest piece).
 */
async function* boundedPieces(
  iterator: AsyncIterator<Buffer[][]>,
  first: IteratorResult<Buffer[][]>,
  buffers: PieceBuffers,
): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [OPEN];
  let size = OPEN.length;
  let any = false;
  const flush = () => {
    const piece = buffers.take(size);
    let at = 0;
    for (const part of parts) at += part.copy(piece, at);
    parts.length = 0;
    size = 0;
    return piece;
  };
  for (let next = first; !next.done;) {
    for (const element of next.value) {
      if (any) {
        parts.push(COMMA);
        size += COMMA.length;
      }
      any = true;
      for (const part of element) {
        parts.push(part);
        size += part.length;
      }
      if (size >= PIECE_BYTES) {
        yield flush();
        await setImmediate();
      }
    }
    if (next === first && size > 0) {
      yield flush();
      await setImmediate();
    }
    next = await iterator.next();
  }
  parts.push(CLOSE);
  size += CLOSE.length;
  yield flush();
}
