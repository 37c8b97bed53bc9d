// Property tests of the input layer every handler reads through: for any names and values, Params
// and its readers give a value or a 4xx ApiError naming the field, never anything else; control
// characters are always refused (TAB, LF, CR allowed); the caps always hold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { controlCharOf } from '../../../src/api/http/control-chars';
import { ApiError } from '../../../src/api/http/errors';
import { INT4_MAX, INT4_MIN, PARAM_LIMITS, Params } from '../../../src/api/http/params';

const RUNS = { numRuns: 300 };
const FORBIDDEN = [...Array.from({ length: 32 }, (_, i) => i).filter((c) => ![9, 10, 13].includes(c)), 127].map((c) =>
  String.fromCharCode(c),
);

/** Runs `fn`; a throw must be a 4xx ApiError whose JSON body names `field` (when given). */
function valueOr4xx<T>(fn: () => T, field?: string): T | ApiError {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
    assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
    if (field !== undefined) assert.ok(Object.hasOwn(err.body as object, field), `names ${JSON.stringify(field)}`);
    return err;
  }
}

/** Any string, often with control characters, unicode and digits in it. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom('a', '1', '-', '+', ' ', 'e', 'x', '.', ...FORBIDDEN, '\t', '\n', '\r'),
    maxLength: 12,
  }),
  fc.stringMatching(/^[+-]?\d{1,25}$/),
);
const entries = fc.array(fc.tuple(fc.oneof(anyText, fc.constantFrom('a', 'b', 'op')), anyText), { maxLength: 30 });

describe('Params (property)', () => {
  it('collecting any entries gives Params or a 400 naming an offending field', () => {
    fc.assert(
      fc.property(entries, entries, (query, body) => {
        const out = valueOr4xx(() => new Params({ query, body }));
        const all = [...query, ...body];
        const bad = all.find(([n, v]) => controlCharOf(n) !== undefined || controlCharOf(v) !== undefined);
        if (bad) {
          assert.ok(out instanceof ApiError, 'a control character is always refused');
          assert.equal(out.status, 400);
        } else assert.ok(out instanceof Params, 'clean input is accepted');
      }),
      RUNS,
    );
  });

  it('every reader of every name gives a value or a 400 naming that name', () => {
    const clean = fc.array(
      fc.tuple(
        fc.constantFrom('a', 'b', 'n'),
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.stringMatching(/^[+-]?\d{1,25}$/),
          fc.constantFrom('1e3', '0x10', '1.5', ' 7 ', 'on', 'False'),
        ),
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(clean, fc.record({ min: fc.integer(), max: fc.integer() }, { requiredKeys: [] }), (body, range) => {
        const p = valueOr4xx(() => new Params({ body: body.filter(([, v]) => controlCharOf(v) === undefined) }));
        if (p instanceof ApiError) return;
        for (const name of ['a', 'b', 'n', 'missing']) {
          valueOr4xx(() => p.get(name), name);
          valueOr4xx(() => p.getAll(name), name);
          valueOr4xx(() => p.string(name, { maxLength: 5 }), name);
          valueOr4xx(() => p.string(name, { required: true }), name);
          valueOr4xx(() => p.bool(name), name);
          valueOr4xx(() => p.list(name, { maxValues: 3 }), name);
          const n = valueOr4xx(() => p.int(name, range), name);
          if (typeof n === 'number') {
            assert.ok(Number.isSafeInteger(n));
            assert.ok(n >= (range.min ?? INT4_MIN) && n <= (range.max ?? INT4_MAX), `${n} in range`);
            assert.match(p.get(name)!.trim(), /^[+-]?\d+$/, 'only digits become numbers');
          }
        }
      }),
      RUNS,
    );
  });

  it('a control character anywhere in a value or name is refused, TAB/LF/CR never are', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(...FORBIDDEN),
        fc.string({ maxLength: 10 }),
        fc.boolean(),
        (before, bad, after, inName) => {
          const text = `${before}${bad}${after}`;
          const out = valueOr4xx(() =>
            inName ? new Params({ query: [[text, 'v']] }) : new Params({ body: [['field', text]] }),
          );
          assert.ok(out instanceof ApiError);
          assert.deepEqual(Object.keys(out.body as object), [inName ? text : 'field']);
          const allowed = `${[...before].filter((c) => !FORBIDDEN.includes(c)).join('')}\t\n\r`;
          assert.equal(new Params({ body: [['field', allowed]] }).get('field'), allowed);
        },
      ),
      RUNS,
    );
  });

  it('the caps hold: values per name (raisable), names per request', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * PARAM_LIMITS.valuesPerName }),
        fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
        fc.integer({ min: PARAM_LIMITS.names - 3, max: PARAM_LIMITS.names + 3 }),
        (count, maxValues, names) => {
          const p = Params.of({ tags: Array.from({ length: count }, (_, i) => `t${i}`) });
          const out = valueOr4xx(() => p.list('tags', { maxValues }), 'tags');
          const cap = maxValues ?? PARAM_LIMITS.valuesPerName;
          assert.equal(Array.isArray(out), count <= cap);
          const many = valueOr4xx(() =>
            Params.of(Object.fromEntries(Array.from({ length: names }, (_, i) => [`n${i}`, 'x']))),
          );
          assert.equal(many instanceof Params, names <= PARAM_LIMITS.names);
        },
      ),
      { numRuns: 60 },
    );
  });
});
