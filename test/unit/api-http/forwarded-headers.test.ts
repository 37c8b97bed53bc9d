import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressMatcher } from '../../../src/api/forwarded-headers';

describe('trusted proxy addresses', () => {
  it('matches addresses and CIDRs of both families, IPv4 peers on dual-stack sockets too', () => {
    const trusted = addressMatcher(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    assert.ok(trusted('10.200.3.4'));
    assert.ok(trusted('::ffff:10.1.2.3'));
    assert.ok(trusted('192.0.2.7'));
    assert.ok(!trusted('192.0.2.8'));
    assert.ok(trusted('fd12::1'));
    assert.ok(!trusted('fe80::1'));
    assert.ok(!trusted(''));
    assert.ok(!trusted('not-an-address'));
  });

  it('trusts nobody by default and refuses what is not an address or CIDR', () => {
    assert.ok(!addressMatcher([])('127.0.0.1'));
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.1/8/1', '10.0.0.0/x'])
      assert.throws(() => addressMatcher([bad]), /Not an IP address or CIDR/, bad);
  });
});
