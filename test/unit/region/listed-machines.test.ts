// The listing's machines as the versions query returns them (one row of aggregates), cut into the
// ListedMachine objects of each chunk.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListedMachines } from '../../../src/region/services/machine-listing-versions';

const md5 = (c: string) => c.repeat(32);

describe('ListedMachines', () => {
  it('gives each machine its id, the shared and own version, and its domain, in order', () => {
    const listed = ListedMachines.parse('S', '3,7,12', md5('a') + md5('b') + md5('c'), 'maas\nlab\nmaas');
    assert.equal(listed.length, 3);
    assert.deepEqual(listed.domains, ['maas', 'lab']);
    assert.deepEqual(listed.slice(0, 3), [
      { id: 3, version: `S:${md5('a')}`, domain: 'maas' },
      { id: 7, version: `S:${md5('b')}`, domain: 'lab' },
      { id: 12, version: `S:${md5('c')}`, domain: 'maas' },
    ]);
  });

  it('cuts chunks at any bounds, the last one short', () => {
    const ids = Array.from({ length: 5 }, (_, i) => i + 1);
    const listed = ListedMachines.parse(
      'S',
      ids.join(','),
      ids.map((i) => md5(String(i))).join(''),
      ids.map(() => 'maas').join('\n'),
    );
    assert.deepEqual(
      listed.slice(2, 4).map((m) => m.id),
      [3, 4],
    );
    assert.deepEqual(
      listed.slice(4, 6).map((m) => [m.id, m.version]),
      [[5, `S:${md5('5')}`]],
    );
  });

  it('is empty when nothing is listed (the aggregates are null)', () => {
    const listed = ListedMachines.parse('S', null, null, null);
    assert.equal(listed.length, 0);
    assert.deepEqual(listed.slice(0, 500), []);
    assert.deepEqual(listed.domains, []);
  });

  it('refuses aggregates of different lengths rather than pair machines with the wrong versions', () => {
    assert.throws(() => ListedMachines.parse('S', '1,2', md5('a'), 'maas\nmaas'), /different lengths/);
    assert.throws(() => ListedMachines.parse('S', '1,2', md5('a') + md5('b'), 'maas'), /different lengths/);
  });
});
