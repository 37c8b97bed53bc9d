// MAAS's MAASIPSet arithmetic, pure: address ↔ integer for both families, condensing ranges, the
// unused gaps of a network, and IPRangeStatistics' suggestions on IPv4 and IPv6.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bigIntToIp,
  condense,
  fullRange,
  ipToBigInt,
  parseNetwork,
  statistics,
  unusedRanges,
} from '../../../src/region/services/network/ip-sets';

describe('ip-sets', () => {
  it('converts addresses both ways (RFC 5952 for IPv6)', () => {
    for (const [ip, v] of [
      ['10.0.0.1', 4],
      ['255.255.255.255', 4],
      ['2001:db8::1', 6],
      ['2001:db8:0:1:0:0:0:1', 6],
      ['::', 6],
      ['fe80::1:0:0:1', 6],
    ] as const) {
      const back = bigIntToIp(ipToBigInt(ip), v);
      assert.equal(ipToBigInt(back), ipToBigInt(ip), ip);
    }
    assert.equal(bigIntToIp(ipToBigInt('2001:db8:0:1:0:0:0:1'), 6), '2001:db8:0:1::1');
    assert.equal(bigIntToIp(ipToBigInt('::ffff:10.0.0.1'), 6), '::ffff:a00:1');
  });

  it('merges overlapping ranges (joining purposes) and joins adjacent ones of the same purposes', () => {
    const r = (a: number, b: number, ...p: string[]) => ({ first: BigInt(a), last: BigInt(b), purposes: p });
    assert.deepEqual(
      condense([r(5, 5, 'assigned-ip'), r(1, 3, 'dynamic'), r(3, 4, 'gateway-ip'), r(6, 6, 'assigned-ip')]),
      [r(1, 4, 'dynamic', 'gateway-ip'), r(5, 6, 'assigned-ip')],
    );
  });

  it('leaves out the network and broadcast of IPv4, but not on a /31', () => {
    const n = parseNetwork('10.0.0.0/30');
    assert.deepEqual(
      unusedRanges([], n).map((r) => [bigIntToIp(r.first, 4), bigIntToIp(r.last, 4)]),
      [['10.0.0.1', '10.0.0.2']],
    );
    const p2p = parseNetwork('10.0.0.0/31');
    assert.equal(unusedRanges([], p2p)[0]!.last - unusedRanges([], p2p)[0]!.first, 1n);
  });

  it("suggests IPv6's subnet-router anycast address as gateway", () => {
    const n = parseNetwork('2001:db8::/120');
    const used = [{ first: n.first, last: n.first, purposes: ['rfc-4291-2.6.1'] }];
    const s = statistics(fullRange(used, n), n);
    assert.equal(s.totalAddresses, 256n);
    assert.equal(bigIntToIp(s.suggestedGateway!, 6), '2001:db8::');
    assert.ok(s.suggestedDynamicRange);
  });
});
