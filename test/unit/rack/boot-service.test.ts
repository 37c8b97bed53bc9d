import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tftp from 'tftp';
import { installIpxeFirmware } from '../../../src/rack/boot/firmware';
import { localAddressFor } from '../../../src/rack/boot/local-address';
import { startBootServices, type BootServicesOptions } from '../../../src/rack/boot/service';
import { freePort } from '../../helpers/bmc/peers';
import { makeBootRoot, type BootRootFixture } from './boot-fixtures';

function tftpGet(port: number, file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const get = tftp.createClient({ host: '127.0.0.1', port, retries: 2, timeout: 500 }).createGetStream(file);
    get.on('data', (c) => chunks.push(c));
    get.on('error', reject);
    get.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('boot services', () => {
  let fx: BootRootFixture;
  let firmware: string;
  const lines: string[] = [];
  let base: BootServicesOptions;

  before(() => {
    fx = makeBootRoot();
    fs.rmSync(path.join(fx.root, 'tftp'), { recursive: true });
    firmware = path.join(fx.dir, 'firmware');
    fs.mkdirSync(firmware);
    fs.writeFileSync(path.join(firmware, 'undionly.kpxe'), 'bios loader');
    fs.writeFileSync(path.join(firmware, 'ipxe.efi'), 'uefi loader');
    base = {
      bootRoot: fx.root,
      bindAddress: '127.0.0.1',
      regionUrl: 'http://127.0.0.1:1/MAAS',
      bootConfigByMac: () => Promise.reject(new Error('no region in this test')),
      firmwareDir: firmware,
      log: (l) => lines.push(l),
    };
  });
  after(() => fx.remove());

  it('starts TFTP and HTTP boot, copies the loaders, and boot.ipxe points at the HTTP port', async () => {
    const services = await startBootServices({ ...base, httpPort: 0, tftpPort: await freePort('udp') });
    try {
      const status = services.status();
      assert.equal(status['http-boot'].status, 'running', status['http-boot'].message);
      assert.equal(status.tftp.status, 'running', status.tftp.message);
      const { http, tftp: tftpPort } = services.ports();
      assert.ok(http && tftpPort);
      assert.equal((await tftpGet(tftpPort, 'undionly.kpxe')).toString(), 'bios loader');
      assert.equal((await tftpGet(tftpPort, 'ipxe.efi')).toString(), 'uefi loader');
      assert.match(
        (await tftpGet(tftpPort, 'boot.ipxe')).toString(),
        new RegExp(`^chain --replace http://127\\.0\\.0\\.1:${http}/ipxe/mac/`, 'm'),
      );
      const script = await fetch(`http://127.0.0.1:${http}/ipxe/boot.ipxe`);
      assert.equal(script.status, 200);
      // Over HTTP too, for UEFI HTTP boot.
      assert.equal(await (await fetch(`http://127.0.0.1:${http}/ipxe.efi`)).text(), 'uefi loader');
    } finally {
      await services.stop();
    }
    assert.equal(services.status().tftp.status, 'off');
    assert.equal(services.status()['http-boot'].status, 'off');
  });

  it('a port that cannot be bound makes that service dead, not the rack', async () => {
    const first = await startBootServices({ ...base, httpPort: 0, tftpPort: await freePort('udp') });
    try {
      const taken = first.ports();
      const second = await startBootServices({ ...base, httpPort: taken.http!, tftpPort: taken.tftp! });
      const status = second.status();
      assert.equal(status['http-boot'].status, 'dead');
      assert.match(status['http-boot'].message, /EADDRINUSE/);
      assert.equal(status.tftp.status, 'dead');
      assert.match(status.tftp.message, /EADDRINUSE/);
      assert.deepEqual(second.ports(), { http: undefined, tftp: undefined });
      await second.stop();
      // The first one is untouched.
      assert.equal(first.status().tftp.status, 'running');
    } finally {
      await first.stop();
    }
    const off = await startBootServices({ ...base, httpPort: null, tftpPort: null });
    assert.deepEqual(off.status(), {
      'http-boot': { status: 'off', message: 'not configured' },
      tftp: { status: 'off', message: 'not configured' },
    });
    await off.stop();
  });

  it('says when loaders or the ephemeral kernel are missing', async () => {
    const bare = path.join(fx.dir, 'bare');
    fs.mkdirSync(bare);
    const services = await startBootServices({
      ...base,
      bootRoot: bare,
      firmwareDir: path.join(fx.dir, 'nowhere'),
      httpPort: 0,
      tftpPort: await freePort('udp'),
    });
    try {
      assert.match(
        services.status().tftp.message,
        /missing undionly\.kpxe, ipxe\.efi \(install the Debian package ipxe\)/,
      );
      assert.match(services.status()['http-boot'].message, /no ephemeral kernel/);
    } finally {
      await services.stop();
    }
  });

  it('loaders are copied again only when the source changed', async () => {
    const dir = path.join(fx.dir, 'tftp-copy');
    assert.deepEqual(await installIpxeFirmware(dir, firmware), {
      installed: ['undionly.kpxe', 'ipxe.efi'],
      missing: [],
    });
    assert.deepEqual(await installIpxeFirmware(dir, firmware), { installed: [], missing: [] });
    fs.writeFileSync(path.join(firmware, 'ipxe.efi'), 'uefi loader v2');
    assert.deepEqual(await installIpxeFirmware(dir, firmware), { installed: ['ipxe.efi'], missing: [] });
    assert.equal(fs.readFileSync(path.join(dir, 'ipxe.efi'), 'utf8'), 'uefi loader v2');
    fs.writeFileSync(path.join(firmware, 'ipxe.efi'), 'uefi loader');
  });

  it("Debian's ipxe package, when installed, provides both loaders", async (t) => {
    if (!fs.existsSync('/usr/lib/ipxe/undionly.kpxe')) return t.skip('Debian package ipxe not installed');
    const dir = path.join(fx.dir, 'tftp-debian');
    const report = await installIpxeFirmware(dir);
    assert.deepEqual(report.missing, []);
    assert.ok(fs.statSync(path.join(dir, 'ipxe.efi')).size > 100_000);
    assert.ok(fs.statSync(path.join(dir, 'undionly.kpxe')).size > 10_000);
  });

  it('the local address a client reaches us on', async () => {
    assert.equal(await localAddressFor('127.0.0.1'), '127.0.0.1');
    assert.equal(await localAddressFor('not an address'), undefined);
  });
});
