// Property tests of the body parsers: random bodies of every content type give Params or a 4xx,
// never a 5xx; JSON depth is measured exactly and refused past the limit; the streaming multipart
// guard decides the same however the body is cut into chunks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { bodyParser, paramsOf } from '../../../src/api/http/body';
import { ApiError } from '../../../src/api/http/errors';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { jsonDepth, parseJson } from '../../../src/api/http/json-depth';
import { parseMultipart } from '../../../src/api/http/multipart';
import { MultipartGuard } from '../../../src/api/http/multipart-guard';
import { serve, type Served } from '../api-http/serve';

const RUNS = { numRuns: 200 };

/** The nesting depth of a parsed JSON value, computed the obvious (recursive) way. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

/** Runs `fn`; a throw must be a 4xx ApiError. */
function or4xx(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
    assert.ok(err.status >= 400 && err.status < 500);
    return err;
  }
}

const json = fc.jsonValue({ maxDepth: 8 });
const boundary = 'b0undary';
const part = fc.record({
  name: fc.string({ maxLength: 8 }).filter((s) => !/["\r\n]/.test(s)),
  value: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(`x\n--${boundary}-y`)),
});
const multipartBody = fc
  .record({ parts: fc.array(part, { maxLength: 8 }), closed: fc.boolean(), junk: fc.uint8Array({ maxLength: 30 }) })
  .map(({ parts, closed, junk }) =>
    Buffer.concat([
      ...parts.map((p) =>
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`),
      ),
      Buffer.from(closed ? `--${boundary}--\r\n` : ''),
      Buffer.from(junk),
    ]),
  );

/** Splits `buf` at the given cut points (any order, any values). */
function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, buf.length]) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  return out;
}

/** The guard's verdict: undefined when it accepts the whole body, else the refusal's message. */
function guardVerdict(chunks: Buffer[], parts: number, partWireBytes: number): string | undefined {
  const guard = new MultipartGuard(boundary, { parts, partWireBytes });
  try {
    for (const c of chunks) guard.push(c);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 413);
    return err.message;
  }
}

describe('body parsers (property)', () => {
  it('jsonDepth equals the recursive depth of any JSON text, and parseJson refuses past the limit with a 400', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 10 }), (value, limit) => {
        const raw = Buffer.from(JSON.stringify(value));
        assert.equal(jsonDepth(raw), depthOf(value));
        const out = or4xx(() => parseJson(raw, limit));
        assert.equal(out instanceof ApiError, depthOf(value) > limit);
      }),
      RUNS,
    );
  });

  it('parseJson on arbitrary bytes gives a value or a 400', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', '1') }).map((s) => Buffer.from(s)),
        ),
        (bytes) => {
          or4xx(() => parseJson(Buffer.from(bytes), 4));
        },
      ),
      RUNS,
    );
  });

  it('parseMultipart on arbitrary bodies gives parts or a 400', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          multipartBody,
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        ),
        (body) => {
          or4xx(() => parseMultipart(body, boundary));
        },
      ),
      RUNS,
    );
  });

  it('the multipart guard decides the same however the body is chunked, and counts parts as the parser does', () => {
    fc.assert(
      fc.property(
        multipartBody,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 0, max: 8 }),
        (body, cuts, maxParts) => {
          const whole = guardVerdict([body], maxParts, 1 << 20);
          assert.equal(guardVerdict(chunked(body, cuts), maxParts, 1 << 20), whole);
          assert.equal(
            guardVerdict(
              [...body].map((b) => Buffer.from([b])),
              maxParts,
              1 << 20,
            ),
            whole,
          );
          const parsed = or4xx(() => parseMultipart(body, boundary));
          // Parts the parser returns (named form-data parts) are never more than the guard allows.
          if (whole === undefined && Array.isArray(parsed)) assert.ok(parsed.length <= maxParts);
        },
      ),
      RUNS,
    );
  });

  describe('over HTTP', () => {
    let server: Served;
    before(async () => {
      server = await serve((app) => {
        app.use(errorBoundary({ log: () => {} }));
        app.use(bodyParser({ fieldsBytes: 4096, filesBytes: 4096, parts: 5, partBytes: 1024, jsonDepth: 6 }));
        app.use((ctx) => {
          const p = paramsOf(ctx)!;
          ctx.body = { names: p.names().length };
        });
      });
    });
    after(() => server.close());

    it('random bodies of every content type get a 200 or a 4xx, never a 5xx', async () => {
      const contentType = fc.constantFrom(
        'application/json',
        'application/x-www-form-urlencoded',
        `multipart/form-data; boundary=${boundary}`,
        'multipart/form-data',
        'text/plain',
        'application/vnd.x+json',
      );
      const body = fc.oneof(
        multipartBody,
        json.map((v) => Buffer.from(JSON.stringify(v))),
        fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.integer({ min: 1, max: 60 }).map((n) => Buffer.from(`{"a":${'['.repeat(n)}${']'.repeat(n)}}`)),
      );
      await fc.assert(
        fc.asyncProperty(contentType, body, async (type, bytes) => {
          const res = await fetch(`${server.url}/x`, {
            method: 'POST',
            body: bytes,
            headers: { 'Content-Type': type },
          });
          await res.arrayBuffer();
          assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `status ${res.status}`);
        }),
        { numRuns: 150 },
      );
    });
  });
});
