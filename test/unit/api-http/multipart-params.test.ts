// A header's parameters are named by the client: names every object inherits are parameters like
// any other, not "already given" (the check once asked `in`, which sees the prototype).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHeaderValue } from '../../../src/api/http/multipart';

describe('multipart header parameters', () => {
  it('keeps parameters named like inherited properties', () => {
    // Names are lower-cased, as MIME's are case-insensitive.
    const { value, params } = parseHeaderValue('form-data; name="x"; constructor="c"; __proto__="p"');
    assert.equal(value, 'form-data');
    assert.deepEqual(Object.keys(params), ['name', 'constructor', '__proto__']);
    assert.equal(params.constructor, 'c');
    assert.equal(params['__proto__'], 'p');
  });

  it('still lets an extended (key*) value win over the plain one', () => {
    const { params } = parseHeaderValue(`form-data; name="a"; filename*=utf-8''b%20c; filename="plain"`);
    assert.equal(params.filename, 'b c');
  });
});
