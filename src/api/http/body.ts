// Reads a request's parameters the way MAAS does: query string plus a form-encoded, multipart or
// JSON body, repeated keys kept as lists. Bodies are buffered in memory under a size limit (no
// temporary files are ever written); the limits are checked while the body streams in, so over a
// limit the request is refused with 413 before the excess is buffered or any handler runs. Each
// caller of ensureParams passes the limits of its route (anonymous API calls get small ones).
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { badRequest, payloadTooLarge } from './errors';
import { DEFAULT_JSON_DEPTH, parseJson } from './json-depth';
import { boundaryOf, parseHeaderValue, parseMultipart } from './multipart';
import { MultipartGuard } from './multipart-guard';
import { Params } from './params';

export interface BodyLimits {
  /** Total bytes of text fields (form values, JSON, other bodies). Default 10 MiB. */
  fieldsBytes?: number;
  /** Total bytes of uploaded file parts (decoded). Default 50 MiB. */
  filesBytes?: number;
  /** Parts of a multipart body. Default 1,000. */
  parts?: number;
  /** Decoded bytes of one multipart part. Default 50 MiB. */
  partBytes?: number;
  /** Nesting depth of a JSON body. Default 32. */
  jsonDepth?: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_BODY_LIMITS: Required<BodyLimits> = {
  fieldsBytes: 10 * MiB,
  filesBytes: 50 * MiB,
  parts: 1_000,
  partBytes: 50 * MiB,
  jsonDepth: DEFAULT_JSON_DEPTH,
};
/**
 * For callers without credentials (anonymous enlistment's `POST machines/`): an ephemeral
 * environment's create is a few KiB, so a stranger gets 1 MiB in all, not the 84 MB on the wire
 * an authenticated multipart may take.
 */
export const ANONYMOUS_BODY_LIMITS: Required<BodyLimits> = {
  fieldsBytes: 1 * MiB,
  filesBytes: 1 * MiB,
  parts: 100,
  partBytes: 1 * MiB,
  jsonDepth: DEFAULT_JSON_DEPTH,
};
/** Multipart parts may arrive base64-encoded (the `maas` CLI does this): allow for the 4/3 growth. */
const MULTIPART_WIRE_OVERHEAD = 1.4;
/** What a part's headers and delimiter may add on the wire besides its content. */
const PART_HEADER_ALLOWANCE = 16 * 1024;

interface ParamsState {
  params?: Params;
  rawBody?: Buffer;
}

/** The Params that `bodyParser` (or the API router) put on the context. */
export function paramsOf(ctx: Koa.Context): Params | undefined {
  return (ctx.state as ParamsState).params;
}

/** The raw bytes of a non-multipart body (JSON, form, anything else), for routes that parse it themselves. */
export function rawBodyOf(ctx: Koa.Context): Buffer | undefined {
  return (ctx.state as ParamsState).rawBody;
}

/** Middleware: parse once and put a `Params` on ctx.state.params (see `paramsOf`). */
export function bodyParser(limits: BodyLimits = {}): Koa.Middleware {
  return async function parseBody(ctx, next) {
    await ensureParams(ctx, limits);
    await next();
  };
}

/** Parses the request unless something upstream already did; returns the Params. */
export async function ensureParams(ctx: Koa.Context, limits: BodyLimits = {}): Promise<Params> {
  const state = ctx.state as ParamsState;
  state.params ??= await readParams(ctx, limits, state);
  return state.params;
}

async function readParams(ctx: Koa.Context, limits: BodyLimits, state: ParamsState): Promise<Params> {
  const { fieldsBytes, filesBytes, parts, partBytes, jsonDepth } = { ...DEFAULT_BODY_LIMITS, ...limits };
  const query = [...new URLSearchParams(ctx.querystring)];
  if (!hasBody(ctx.req)) return new Params({ query });

  const contentType = ctx.get('Content-Type');
  const type = parseHeaderValue(contentType).value;
  if (type === 'multipart/form-data') {
    const boundary = boundaryOf(contentType);
    if (!boundary) throw badRequest('Malformed multipart body: the Content-Type has no boundary.');
    const wireLimit = Math.ceil((fieldsBytes + filesBytes) * MULTIPART_WIRE_OVERHEAD);
    const guard = new MultipartGuard(boundary, {
      parts,
      partWireBytes: Math.ceil(partBytes * MULTIPART_WIRE_OVERHEAD) + PART_HEADER_ALLOWANCE,
    });
    const raw = await readRaw(ctx.req, wireLimit, `a multipart body may be at most ${wireLimit} bytes`, (chunk) =>
      guard.push(chunk),
    );
    return multipartParams(query, parseMultipart(raw, boundary), fieldsBytes, filesBytes, partBytes);
  }

  const raw = await readRaw(ctx.req, fieldsBytes, `a request body may be at most ${fieldsBytes} bytes`);
  state.rawBody = raw;
  if (type === 'application/x-www-form-urlencoded') {
    return new Params({ query, body: new URLSearchParams(raw.toString('utf8')) });
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    return new Params({ query, body: jsonEntries(raw, jsonDepth) });
  }
  return new Params({ query });
}

function multipartParams(
  query: Array<[string, string]>,
  parts: ReturnType<typeof parseMultipart>,
  fieldsLimit: number,
  filesLimit: number,
  partLimit: number,
): Params {
  const body: Array<[string, string] | [string, string, 'bytes']> = [];
  const files = new Map<string, Buffer>();
  let fieldBytes = 0;
  let fileBytes = 0;
  for (const part of parts) {
    // A part is bytes when it says so: a filename, or a non-text type (the CLI's `name@=path`
    // sends application/octet-stream without a filename). Unnamed parts stay fields too, as in
    // Django, so `params.get()` still sees them.
    const isFile =
      part.filename !== undefined || (part.contentType !== undefined && !part.contentType.startsWith('text/'));
    // The guard bounds a part's wire size; its decoded size is bounded here.
    if (part.data.length > partLimit)
      throw payloadTooLarge(`Request body too large: one part may be at most ${partLimit} bytes.`);
    if (isFile) {
      files.set(part.name, part.data);
      fileBytes += part.data.length;
    } else fieldBytes += part.data.length;
    // A binary part stays readable as a value (Django does the same) but is bytes, not text: Params
    // checks it for control characters only if a handler reads it as text.
    if (part.filename === undefined)
      body.push(isFile ? [part.name, part.data.toString('utf8'), 'bytes'] : [part.name, part.data.toString('utf8')]);
  }
  if (fieldBytes > fieldsLimit)
    throw payloadTooLarge(`Request body too large: form fields may total at most ${fieldsLimit} bytes.`);
  if (fileBytes > filesLimit)
    throw payloadTooLarge(`Request body too large: uploaded files may total at most ${filesLimit} bytes.`);
  return new Params({ query, body, files });
}

/** A JSON object's keys become parameters; arrays become repeated keys, nested objects JSON text. */
function jsonEntries(raw: Buffer, maxDepth: number): Array<[string, string]> {
  if (raw.length === 0) return [];
  const parsed = parseJson(raw, maxDepth);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  const entries: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(parsed)) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item === null || item === undefined) continue;
      entries.push([name, typeof item === 'object' ? JSON.stringify(item) : String(item)]);
    }
  }
  return entries;
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Buffers the body, refusing (413) as soon as it is known to exceed `limit`; `inspect` sees each
 * chunk before it is kept and may throw to refuse the body there.
 */
function readRaw(
  req: IncomingMessage,
  limit: number,
  limitText: string,
  inspect?: (chunk: Buffer) => void,
): Promise<Buffer> {
  const tooLarge = () => {
    // Drain what is still coming so the client reads our 413 instead of a reset connection.
    req.resume();
    return payloadTooLarge(`Request body too large: ${limitText}.`);
  };
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  if (req.readableEnded) return Promise.reject(new Error('The request body was already consumed by another reader.'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge());
        return;
      }
      try {
        inspect?.(chunk);
      } catch (err) {
        cleanup();
        req.resume();
        reject(err as Error);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(badRequest(`The request body could not be read: ${err.message}`));
    };
    const onClose = () => {
      cleanup();
      reject(badRequest('The request body ended before it was complete.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
