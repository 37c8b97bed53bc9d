import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { machineMayReach } from '../../../src/rack/boot/machine-routes';

const reach = (method: string, url: string, authorized = false) => machineMayReach({ method, url, authorized });

describe("the rack's /MAAS/ proxy: what machines may reach", () => {
  it('lets through the metadata server, the run-scripts and anonymous enlistment', () => {
    assert.ok(reach('GET', '/MAAS/metadata/2012-03-01/meta-data/instance-id', true));
    assert.ok(reach('POST', '/MAAS/metadata/2012-03-01/', true));
    assert.ok(reach('GET', '/MAAS/metadata/latest/user-data?x=1', true));
    assert.ok(reach('GET', '/MAAS/maas-run-scripts'));
    assert.ok(reach('GET', '/MAAS/api/2.0/machines/?op=is_registered&mac_address=52:54:00:00:00:01'));
    assert.ok(reach('POST', '/MAAS/api/2.0/machines/'));
  });

  it('keeps the UI, the user API, describe/ and the racks API behind the rack', () => {
    for (const [method, url, authorized] of [
      ['GET', '/MAAS/r/login', false],
      ['GET', '/MAAS/api/2.0/describe/', false],
      ['GET', '/MAAS/api/2.0/users/', true],
      ['GET', '/MAAS/api/2.0/machines/', true],
      ['GET', '/MAAS/api/2.0/machines/', false],
      ['POST', '/MAAS/api/2.0/machines/', true],
      ['POST', '/MAAS/api/2.0/machines/?op=allocate', false],
      ['GET', '/MAAS/api/2.0/machines/?op=is_registered&op=power_parameters', false],
      ['GET', '/MAAS/api/2.0/machines/abc123/', false],
      ['GET', '/MAAS/api/2.0/version/', false],
      ['POST', '/MAAS/maas-run-scripts', false],
      ['GET', '/MAAS/rack/v1/racks/r/dhcp-config', true],
      ['GET', '/MAAS/metadata/../api/2.0/users/', false],
      ['GET', '/MAAS/metadata/%2e%2e/api/2.0/users/', false],
      ['GET', '/MAAS/metadata//x', false],
      ['GET', '/MAAS/api/2.0/machines/./', false],
      ['GET', '/MAAS/', false],
    ] as const)
      assert.ok(!reach(method, url, authorized), `${method} ${url}${authorized ? ' (with credentials)' : ''}`);
  });
});
