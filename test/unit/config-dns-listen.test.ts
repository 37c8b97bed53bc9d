// METALFLOW_DNS_LISTEN: where the region's named answers; a typo fails at start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dnsListen } from '../../src/runtime/config';

describe('METALFLOW_DNS_LISTEN', () => {
  it('defaults to every IPv4 address, port 53 as root and 5255 otherwise', () => {
    assert.deepEqual(dnsListen(undefined, true), { host: '0.0.0.0', port: 53 });
    assert.deepEqual(dnsListen('', false), { host: '0.0.0.0', port: 5255 });
  });

  it('takes off, addr, addr:port, [v6]:port and a bare IPv6 address', () => {
    assert.equal(dnsListen('off', true), null);
    assert.deepEqual(dnsListen('10.0.0.1', true), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(dnsListen('127.0.0.1:5399', false), { host: '127.0.0.1', port: 5399 });
    assert.deepEqual(dnsListen('[fd00::1]:5353', true), { host: 'fd00::1', port: 5353 });
    assert.deepEqual(dnsListen('::1', true), { host: '::1', port: 53 });
  });

  it('refuses what is not an address and a port', () => {
    for (const bad of ['localhost', '10.0.0.1:0', '10.0.0.1:70000', '10.0.0.1:x', '[fd00::1]:', 'on'])
      assert.throws(() => dnsListen(bad, true), /METALFLOW_DNS_LISTEN: .* is not off, an IP address/, bad);
  });
});
