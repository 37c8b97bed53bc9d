// Placement rule matching (ruleMatches): every criterion must hold; hardware facts are minimums.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ruleMatches, type MachineFacts, type PlacementMatch } from '../../../src/region/services/placement';

const facts: MachineFacts = {
  pool: 'default',
  zone: 'rack-a',
  tags: ['gpu', 'nvme'],
  arch: 'amd64/generic',
  cpuCount: 8,
  memory: 16384,
  hostname: 'gpu-node-01',
  subnets: [3, 5],
  vlans: [10],
};

describe('placement rule matching', () => {
  it('an empty rule matches every machine', () => {
    assert.equal(ruleMatches({}, facts), true);
  });

  it('each criterion alone: a hit and a miss', () => {
    const cases: Array<[PlacementMatch, PlacementMatch]> = [
      [{ pool: 'default' }, { pool: 'gpu' }],
      [{ zone: 'rack-a' }, { zone: 'rack-b' }],
      [{ tags: ['gpu'] }, { tags: ['gpu', 'fpga'] }],
      [{ arch: 'amd64' }, { arch: 'arm64' }],
      [{ arch: 'amd64/generic' }, { arch: 'amd64/hwe' }],
      [{ cpu_count: 8 }, { cpu_count: 9 }],
      [{ mem: 16384 }, { mem: 16385 }],
      [{ hostname_prefix: 'gpu-' }, { hostname_prefix: 'cpu-' }],
      [{ subnets: [5, 3] }, { subnets: [3, 4] }],
      [{ vlans: [10] }, { vlans: [11] }],
    ];
    for (const [hit, miss] of cases) {
      assert.equal(ruleMatches(hit, facts), true, JSON.stringify(hit));
      assert.equal(ruleMatches(miss, facts), false, JSON.stringify(miss));
    }
  });

  it('arch wildcards go one way: amd64 matches amd64/generic, not amd64x or the reverse', () => {
    assert.equal(ruleMatches({ arch: 'amd' }, facts), false);
    assert.equal(ruleMatches({ arch: 'amd64/generic' }, { ...facts, arch: 'amd64' }), false);
  });

  it('all criteria must hold', () => {
    assert.equal(ruleMatches({ zone: 'rack-a', tags: ['gpu'], cpu_count: 4, subnets: [3] }, facts), true);
    assert.equal(ruleMatches({ zone: 'rack-a', tags: ['gpu'], cpu_count: 16 }, facts), false);
  });

  it('a machine in no pool matches no pool criterion', () => {
    assert.equal(ruleMatches({ pool: 'default' }, { ...facts, pool: null }), false);
  });

  it('empty tag, subnet and VLAN lists ask for nothing', () => {
    assert.equal(
      ruleMatches({ tags: [], subnets: [], vlans: [] }, { ...facts, tags: [], subnets: [], vlans: [] }),
      true,
    );
  });
});
