// The BSON subset of MAAS's `details` reply, against bytes laid out by the spec (bsonspec.org).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBson } from '../../../src/api/presenters/bson';

describe('encodeBson', () => {
  it('encodes binary (subtype 0) and null elements with the document length first', () => {
    const bytes = encodeBson({ lshw: Buffer.from('ab'), lldp: null });
    assert.equal(
      bytes.toString('hex'),
      '18000000' + '05' + '6c73687700' + '02000000' + '00' + '6162' + '0a' + '6c6c647000' + '00',
    );
  });

  it('encodes the empty document as five bytes, and refuses a NUL in a name', () => {
    assert.equal(encodeBson({}).toString('hex'), '0500000000');
    assert.throws(() => encodeBson({ 'a\0b': null }), /NUL/);
  });
});
