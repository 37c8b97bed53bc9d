import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../src/api/http/errors';
import { INT4_MAX, INT4_MIN, PARAM_LIMITS, Params } from '../../../src/api/http/params';

function fieldErrorOf(fn: () => unknown): Record<string, string[]> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 400);
    assert.equal(err.contentType, 'application/json');
    return err.body as Record<string, string[]>;
  }
  assert.fail('expected a 400');
}

describe('Params', () => {
  it('keeps repeated keys as lists, query first, and get() returns the last value', () => {
    const p = new Params({
      query: [
        ['op', 'allocate'],
        ['tags', 'a'],
      ],
      body: [
        ['tags', 'b'],
        ['tags', 'c'],
        ['op', 'other'],
      ],
    });
    assert.deepEqual(p.getAll('tags'), ['a', 'b', 'c']);
    assert.equal(p.get('tags'), 'c');
    assert.equal(p.fromQuery('op'), 'allocate');
    assert.equal(p.fromBody('op'), 'other');
    assert.equal(p.has('tags'), true);
    assert.equal(p.has('nope'), false);
    assert.deepEqual(p.getAll('nope'), []);
    assert.deepEqual(p.names(), ['op', 'tags']);
    assert.deepEqual(Params.of({ mac_addresses: ['a', 'b'], hostname: 'h' }).getAll('mac_addresses'), ['a', 'b']);
  });

  it('reads strings, enforcing required and maxLength with the field named', () => {
    const p = Params.of({ hostname: 'node1', empty: '' });
    assert.equal(p.string('hostname'), 'node1');
    assert.equal(p.string('missing'), undefined);
    assert.equal(p.string('empty'), '');
    assert.deepEqual(
      fieldErrorOf(() => p.string('missing', { required: true })),
      { missing: ['This field is required.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.string('empty', { required: true })),
      { empty: ['This field is required.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.string('hostname', { maxLength: 3 })),
      {
        hostname: ['Ensure this value has at most 3 characters (it has 5).'],
      },
    );
  });

  it('reads integers within bounds', () => {
    const p = Params.of({ cpu: '4', neg: '-2', junk: '4x', float: '1.5', big: '99999999999999999999' });
    assert.equal(p.int('cpu', { min: 1, max: 8 }), 4);
    assert.equal(p.int('neg'), -2);
    assert.equal(p.int('missing'), undefined);
    assert.deepEqual(
      fieldErrorOf(() => p.int('junk')),
      { junk: ['Enter a whole number.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('float')),
      { float: ['Enter a whole number.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('big')),
      { big: ['Ensure this value is less than or equal to 2147483647.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('cpu', { min: 5 })),
      { cpu: ['Ensure this value is greater than or equal to 5.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('cpu', { max: 3 })),
      { cpu: ['Ensure this value is less than or equal to 3.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('missing', { required: true })),
      { missing: ['This field is required.'] },
    );
  });

  it("reads booleans in MAAS's accepted forms, case-insensitively", () => {
    const forms: Record<string, boolean> = {
      true: true,
      TRUE: true,
      '1': true,
      on: true,
      On: true,
      false: false,
      False: false,
      '0': false,
      off: false,
      OFF: false,
    };
    for (const [text, expected] of Object.entries(forms))
      assert.equal(Params.of({ erase: text }).bool('erase'), expected, text);
    assert.equal(Params.of({}).bool('erase'), undefined);
    const error = fieldErrorOf(() => Params.of({ erase: 'maybe' }).bool('erase'));
    assert.deepEqual(Object.keys(error), ['erase']);
    assert.match(error.erase?.[0] ?? '', /'maybe' is not a valid boolean/);
    assert.deepEqual(
      fieldErrorOf(() => Params.of({}).bool('erase', { required: true })),
      { erase: ['This field is required.'] },
    );
  });

  it('reads lists, dropping empty values', () => {
    const p = Params.of({ mac_addresses: ['aa:bb', '', 'cc:dd'] });
    assert.deepEqual(p.list('mac_addresses'), ['aa:bb', 'cc:dd']);
    assert.deepEqual(p.list('tags'), []);
    assert.deepEqual(
      fieldErrorOf(() => p.list('tags', { required: true })),
      { tags: ['This field is required.'] },
    );
  });

  it('refuses control characters in any value or name, naming the field, but allows TAB, LF and CR', () => {
    for (const bad of ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f', '\u007f']) {
      assert.deepEqual(
        fieldErrorOf(() => Params.of({ comment: `a${bad}b` })),
        {
          comment: [
            `Control characters are not allowed (found U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}).`,
          ],
        },
      );
      assert.ok(fieldErrorOf(() => new Params({ query: [[`na${bad}me`, 'x']] }))[`na${bad}me`]);
    }
    assert.equal(Params.of({ user_data: 'line 1\r\n\tline 2\n' }).string('user_data'), 'line 1\r\n\tline 2\n');
    assert.ok(fieldErrorOf(() => new Params({ query: [['q', '\u0000']] })).q);
  });

  it('checks values of binary parts only when a handler reads them as text', () => {
    const p = new Params({
      body: [['script.out', 'a\u0000b', 'bytes']],
      files: new Map([['script.out', Buffer.from([97, 0, 98])]]),
    });
    assert.equal(p.has('script.out'), true);
    assert.deepEqual(p.files.get('script.out'), Buffer.from([97, 0, 98]));
    assert.ok(fieldErrorOf(() => p.string('script.out'))['script.out']);
    assert.ok(fieldErrorOf(() => p.getAll('script.out'))['script.out']);
  });

  it("keeps int() within PostgreSQL's integer range unless the caller widens it", () => {
    const p = Params.of({
      max: '2147483647',
      over: '2147483648',
      min: '-2147483648',
      under: '-2147483649',
      hugeNeg: '-99999999999999999999',
    });
    assert.equal(p.int('max'), INT4_MAX);
    assert.equal(p.int('min'), INT4_MIN);
    assert.deepEqual(
      fieldErrorOf(() => p.int('over')),
      { over: ['Ensure this value is less than or equal to 2147483647.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('under')),
      { under: ['Ensure this value is greater than or equal to -2147483648.'] },
    );
    assert.deepEqual(
      fieldErrorOf(() => p.int('hugeNeg')),
      { hugeNeg: ['Ensure this value is greater than or equal to -2147483648.'] },
    );
    assert.equal(p.int('over', { max: 2 ** 40 }), 2147483648);
    for (const junk of ['1e3', '0x10', '1.5', 'Infinity', '', ' ', '+', '٣']) {
      const q = Params.of({ n: junk });
      if (junk.trim() === '') assert.equal(q.int('n'), undefined);
      else
        assert.deepEqual(
          fieldErrorOf(() => q.int('n')),
          { n: ['Enter a whole number.'] },
          junk,
        );
    }
  });

  it('caps the values of one name (raisable), the names and the values of a request', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    const p = Params.of({ tags: many(PARAM_LIMITS.valuesPerName + 1), ok: many(PARAM_LIMITS.valuesPerName) });
    assert.equal(p.list('ok').length, PARAM_LIMITS.valuesPerName);
    assert.deepEqual(
      fieldErrorOf(() => p.list('tags')),
      {
        tags: [
          `At most ${PARAM_LIMITS.valuesPerName} values of tags are allowed (got ${PARAM_LIMITS.valuesPerName + 1}).`,
        ],
      },
    );
    assert.ok(fieldErrorOf(() => p.getAll('tags')).tags);
    assert.equal(p.list('tags', { maxValues: 500 }).length, PARAM_LIMITS.valuesPerName + 1);
    assert.equal(p.get('tags'), `v${PARAM_LIMITS.valuesPerName}`, 'get() reads the last value');

    const names = Object.fromEntries(many(PARAM_LIMITS.names + 1).map((n) => [n, 'x']));
    assert.deepEqual(
      fieldErrorOf(() => Params.of(names)),
      { [`v${PARAM_LIMITS.names}`]: [`Too many parameters: a request may carry at most ${PARAM_LIMITS.names} names.`] },
    );
    assert.ok(fieldErrorOf(() => Params.of({ a: many(PARAM_LIMITS.values + 1) })).a);
    assert.equal(
      Params.of({ a: many(PARAM_LIMITS.values) }).list('a', { maxValues: Infinity }).length,
      PARAM_LIMITS.values,
    );
  });
});
