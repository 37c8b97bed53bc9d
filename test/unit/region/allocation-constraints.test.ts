// MAAS's structured allocate constraints (storage, interfaces): parsing, refusals and matching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../src/region/errors';
import {
  matchStorage,
  parseInterfaces,
  parseStorage,
  storageByLabel,
} from '../../../src/region/services/allocation-constraints';

const GB = 1000 ** 3;
const refused = (field: string, message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ValidationError, String(err));
  assert.match(err.fields[field]?.join(' ') ?? '', message);
  return true;
};

describe('allocation constraints: storage', () => {
  it('parses label:size(tags) in GB of 1000³ bytes; absent or blank means none', () => {
    assert.deepEqual(parseStorage(undefined), []);
    assert.deepEqual(parseStorage('  '), []);
    assert.deepEqual(parseStorage('root:20(ssd,rotary),data:1.5'), [
      { label: 'root', sizeBytes: 20 * GB, tags: ['ssd', 'rotary'] },
      { label: 'data', sizeBytes: 1.5 * GB, tags: [] },
    ]);
    assert.deepEqual(parseStorage('10'), [{ label: '', sizeBytes: 10 * GB, tags: [] }]);
  });

  it('keeps the first constraint first (the root disk), the rest most tags first', () => {
    const labels = parseStorage('root:10,a:5,b:5(x,y),c:5(x)').map((c) => c.label);
    assert.deepEqual(labels, ['root', 'b', 'c', 'a']);
  });

  it('refuses malformed constraints and sizes too large for SQL, naming the field', () => {
    for (const bad of ['root:', 'root:ten', 'a:b:10', '10(ssd', ':10', '-5'])
      assert.throws(() => parseStorage(bad), refused('storage', /Malformed storage constraint/), bad);
    assert.throws(() => parseStorage(`big:${'9'.repeat(300)}`), refused('storage', /too large/));
  });

  it('matches the root constraint against the first device only, the others the smallest that fits', () => {
    const devices = [{ size: 30 * GB }, { size: 500 * GB, tags: ['ssd'] }, { size: 100 * GB, tags: ['ssd'] }];
    const matched = matchStorage(devices, parseStorage('root:20,fast:50(ssd)'));
    assert.deepEqual(
      [...matched!],
      [
        [1, 'root'],
        [3, 'fast'],
      ],
    );
    assert.deepEqual(storageByLabel(matched!), { root: [1], fast: [3] });
    // The root constraint never falls back to a bigger second disk.
    assert.equal(matchStorage(devices, parseStorage('root:40')), null);
    // Tags must all be present; a device is used once.
    assert.equal(matchStorage(devices, parseStorage('root:1,a:1(nvme)')), null);
    assert.equal(matchStorage(devices, parseStorage('root:1,a:1(ssd),b:1(ssd),c:1(ssd)')), null);
    assert.equal(matchStorage([], parseStorage('root:1')), null);
    assert.deepEqual([...matchStorage(devices, [])!], []);
  });

  it('does not list unlabelled constraints by label', () => {
    assert.deepEqual(storageByLabel(matchStorage([{ size: 10 * GB }], parseStorage('5'))!), {});
  });
});

describe('allocation constraints: interfaces', () => {
  it("parses MAAS's labeled constraint map; unlabelled parts are labelled by position", () => {
    assert.deepEqual(parseInterfaces('eth0:name=eth0,link_speed=1000,link_speed=10000;san:type=bond,hostname=h'), [
      { label: 'eth0', ids: [], names: ['eth0'], types: [], hostnames: [], linkSpeed: 10000, network: {} },
      { label: 'san', ids: [], names: [], types: ['bond'], hostnames: ['h'], network: {} },
    ]);
    assert.deepEqual(parseInterfaces('id=7'), [
      { label: '0', ids: [7], names: [], types: [], hostnames: [], network: {} },
    ]);
    assert.deepEqual(parseInterfaces(undefined), []);
  });

  it("keeps MAAS's per-interface networking keys for allocation-network to resolve", () => {
    assert.deepEqual(parseInterfaces('0:space=1;1:space=dmz,not_fabric=f1,vid=10,vid=20,mode=dhcp,not_space=storage'), [
      { label: '0', ids: [], names: [], types: [], hostnames: [], network: { space: ['1'] } },
      {
        label: '1',
        ids: [],
        names: [],
        types: [],
        hostnames: [],
        network: { space: ['dmz'], not_fabric: ['f1'], vid: ['10', '20'], mode: ['dhcp'], not_space: ['storage'] },
      },
    ]);
  });

  it('refuses what it does not honour with a 400 on interfaces', () => {
    const cases: Array<[string, RegExp]> = [
      ['a:fabric_class=10g', /not supported: metalflow's fabrics have no class/],
      ['a:space=', /'space' needs a value/],
      ['a:colour=red', /Unknown interfaces constraint: 'colour'/],
      ['a:name', /is not key=value/],
      ['a:id=x', /id must be a number/],
      ['a:link_speed=1e9', /link_speed must be a number/],
      ['a:name=x;a:name=y', /given twice/],
      ['bad label:name=x', /bad label/],
    ];
    for (const [value, message] of cases)
      assert.throws(() => parseInterfaces(value), refused('interfaces', message), value);
  });
});
