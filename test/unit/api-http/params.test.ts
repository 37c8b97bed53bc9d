import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../src/api/http/errors';
import { Params } from '../../../src/api/http/params';

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
      { big: ['Enter a whole number.'] },
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
});
