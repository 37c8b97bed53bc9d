import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/runtime/config';

describe('METALFLOW_TRUSTED_PROXIES', () => {
  it('is empty by default and a comma-separated list of IPs and CIDRs otherwise', () => {
    assert.deepEqual(loadConfig({}).trustedProxies, []);
    assert.deepEqual(loadConfig({ METALFLOW_TRUSTED_PROXIES: ' 10.0.0.5, 10.1.0.0/16,,fd00::/8 ' }).trustedProxies, [
      '10.0.0.5',
      '10.1.0.0/16',
      'fd00::/8',
    ]);
  });

  it('refuses a typo at start, naming the variable', () => {
    assert.throws(
      () => loadConfig({ METALFLOW_TRUSTED_PROXIES: '10.0.0.5,proxy.example' }),
      /METALFLOW_TRUSTED_PROXIES: "proxy.example" is not an IP address or CIDR/,
    );
  });
});
