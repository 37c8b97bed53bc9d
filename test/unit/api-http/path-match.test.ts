// PathMatcher: templates against request paths, including placeholders that may hold a CIDR.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathMatcher } from '../../../src/api/http/path-match';

describe('PathMatcher', () => {
  const matcher = new PathMatcher([
    { template: '/subnets/{id}/', value: 'subnet', cidrPlaceholders: ['id'] },
    { template: '/zones/{name}/', value: 'zone' },
  ]);

  it('routes a CIDR with its prefix length to a CIDR placeholder, as MAAS routes subnets/10.0.0.0/24/', () => {
    assert.deepEqual(matcher.match('/subnets/10.0.0.0/24/'), {
      value: 'subnet',
      template: '/subnets/{id}/',
      params: { id: '10.0.0.0/24' },
    });
    assert.deepEqual(matcher.match('/subnets/10.0.0.0/24'), {
      value: 'subnet',
      template: '/subnets/{id}/',
      params: { id: '10.0.0.0/24' },
    });
    assert.deepEqual(matcher.match('/subnets/fd00::/64/'), {
      value: 'subnet',
      template: '/subnets/{id}/',
      params: { id: 'fd00::/64' },
    });
    assert.deepEqual(matcher.match('/subnets/10.0.0.0%2F24/'), {
      value: 'subnet',
      template: '/subnets/{id}/',
      params: { id: '10.0.0.0/24' },
    });
    assert.deepEqual(matcher.match('/subnets/7/'), {
      value: 'subnet',
      template: '/subnets/{id}/',
      params: { id: '7' },
    });
    assert.deepEqual(matcher.match('/subnets/10.0.0.0/24/op-statistics'), {
      value: 'subnet',
      template: '/subnets/{id}/',
      params: { id: '10.0.0.0/24' },
      op: 'statistics',
    });
  });

  it('keeps every other placeholder to one segment', () => {
    assert.equal(matcher.match('/zones/a/24/'), undefined);
    assert.equal(matcher.match('/subnets/10.0.0.0/abc/'), undefined);
    assert.equal(matcher.match('/subnets/10.0.0.0/2400/'), undefined);
  });
});
