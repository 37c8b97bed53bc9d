// The rack's HTTP boot server in front of the real region (PostgreSQL, Temporal): its /MAAS/ proxy
// forwards what booting machines use (metadata, anonymous enlistment, maas-run-scripts) and
// nothing else of the region — the web UI, the user API and describe/ are a 404 from the rack.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHttpBootServer } from '../../src/rack/boot/http-server';
import { startApi, type ApiClient } from '../helpers/api';
import { signedCall } from '../helpers/http';
import { startTestRegion, type TestRegion } from '../helpers/region';

describe("the rack's /MAAS/ proxy in front of the real region", () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let server: http.Server;
  let rack: string;
  let bootRoot: string;

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    bootRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rack-proxy-'));
    server = createHttpBootServer({
      bootRoot,
      regionUrl: `${api.base}/MAAS`,
      bootConfigByMac: () => Promise.reject(new Error('not used here')),
      log: () => undefined,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    rack = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await api?.close();
    await region?.stop();
    if (bootRoot) fs.rmSync(bootRoot, { recursive: true, force: true });
  });

  it('does not publish the UI, the user API or describe/ (the region itself serves them)', async () => {
    for (const [method, route, key] of [
      ['GET', '/MAAS/r/login', null],
      ['GET', '/MAAS/api/2.0/describe/', null],
      ['GET', '/MAAS/api/2.0/version/', null],
      ['GET', '/MAAS/api/2.0/users/', 'admin'],
      ['GET', '/MAAS/api/2.0/machines/', 'admin'],
      ['POST', '/MAAS/api/2.0/machines/', 'admin'],
      ['GET', '/MAAS/api/2.0/account/?op=list_authorisation_tokens', 'admin'],
      ['GET', '/MAAS/metadata/../api/2.0/users/', 'admin'],
    ] as const) {
      const k = key ? admin : null;
      const direct = await signedCall(api.base + route, method, { key: k, form: method === 'POST' ? {} : undefined });
      assert.notEqual(direct.status, 404, `the region answers ${method} ${route}`);
      const via = await signedCall(rack + route, method, { key: k, form: method === 'POST' ? {} : undefined });
      assert.equal(via.status, 404, `${method} ${route} through the rack: ${via.text}`);
    }
  });

  it('forwards anonymous enlistment, is_registered, the metadata server and maas-run-scripts', async () => {
    const macAddress = '52:54:00:cc:00:01';
    const before = await signedCall(`${rack}/MAAS/api/2.0/machines/?op=is_registered&mac_address=${macAddress}`, 'GET');
    assert.equal(before.status, 200, before.text);
    assert.equal(before.body, false);
    const enlisted = await signedCall(`${rack}/MAAS/api/2.0/machines/`, 'POST', {
      form: { architecture: 'amd64', mac_addresses: macAddress },
    });
    assert.equal(enlisted.status, 200, enlisted.text);
    const again = await signedCall(`${rack}/MAAS/api/2.0/machines/?op=is_registered&mac_address=${macAddress}`, 'GET');
    assert.equal(again.body, true);

    // Through the rack, enlistment is still only enlistment.
    const webhook = await signedCall(`${rack}/MAAS/api/2.0/machines/`, 'POST', {
      form: { architecture: 'amd64', mac_addresses: '52:54:00:cc:00:02', power_type: 'webhook' },
    });
    assert.equal(webhook.status, 400, webhook.text);

    const script = await signedCall(`${rack}/MAAS/maas-run-scripts`, 'GET');
    assert.equal(script.status, 200);
    assert.match(script.text, /^#!\/bin\/sh/);

    // The metadata server answers (here: no machine token, so it refuses) from the region itself.
    const metadata = await signedCall(`${rack}/MAAS/metadata/2012-03-01/`, 'GET');
    const direct = await signedCall(`${api.base}/MAAS/metadata/2012-03-01/`, 'GET');
    assert.equal(metadata.status, direct.status);
    assert.equal(metadata.text, direct.text);
  });
});
