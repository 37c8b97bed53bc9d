import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseBootFile, clientFirmware } from '../../../src/rack/dhcp/boot-file';
import { OPT, type DhcpOptions } from '../../../src/rack/dhcp/options';

const server = { ip: '10.77.0.1', httpPort: 5248 };
const arch = (n: number) => Buffer.from([n >> 8, n & 255]);
const choose = (opts: Array<[number, Buffer]>) => chooseBootFile(clientFirmware(new Map(opts) as DhcpOptions), server);
const pxe = (a: number) => Buffer.from(`PXEClient:Arch:${String(a).padStart(5, '0')}:UNDI:002001`);

describe('DHCP boot file selection', () => {
  it('gives iPXE the first boot script over HTTP and tells it not to wait for ProxyDHCP', () => {
    const got = choose([
      [OPT.clientArch, arch(0)],
      [OPT.vendorClass, pxe(0)],
      [OPT.userClass, Buffer.from('iPXE')],
    ]);
    assert.deepEqual(got, { filename: 'http://10.77.0.1:5248/ipxe/boot.ipxe', ipxeNoPxeDhcp: true });
  });

  it('recognises iPXE by an RFC 3004 length-prefixed user class too', () => {
    assert.equal(
      choose([
        [OPT.clientArch, arch(7)],
        [OPT.userClass, Buffer.from('\x04iPXE', 'latin1')],
      ])?.filename,
      'http://10.77.0.1:5248/ipxe/boot.ipxe',
    );
  });

  it('chains firmware PXE to iPXE over TFTP by architecture', () => {
    assert.equal(
      choose([
        [OPT.clientArch, arch(0)],
        [OPT.vendorClass, pxe(0)],
      ])?.filename,
      'undionly.kpxe',
    );
    for (const a of [6, 7, 9])
      assert.equal(
        choose([
          [OPT.clientArch, arch(a)],
          [OPT.vendorClass, pxe(a)],
        ])?.filename,
        'ipxe.efi',
        `arch ${a}`,
      );
  });

  it('treats a PXEClient without option 93 as BIOS', () => {
    assert.equal(choose([[OPT.vendorClass, Buffer.from('PXEClient')]])?.filename, 'undionly.kpxe');
  });

  it('gives UEFI HTTP boot the iPXE binary by URL with vendor class HTTPClient', () => {
    const got = choose([
      [OPT.clientArch, arch(16)],
      [OPT.vendorClass, Buffer.from('HTTPClient:Arch:00016:UNDI:003000')],
    ]);
    assert.deepEqual(got, {
      filename: 'http://10.77.0.1:5248/ipxe.efi',
      vendorClass: 'HTTPClient',
      ipxeNoPxeDhcp: false,
    });
  });

  it('gives clients that are not network booting (or that no loader fits) no boot file', () => {
    assert.equal(choose([]), undefined);
    assert.equal(choose([[OPT.vendorClass, Buffer.from('MSFT 5.0')]]), undefined);
    assert.equal(
      choose([
        [OPT.clientArch, arch(11)],
        [OPT.vendorClass, pxe(11)],
      ]),
      undefined,
      'ARM64 UEFI: no loader on this rack',
    );
  });

  it('marks PXE firmware (option 93 or PXEClient) for short leases, and nothing else', () => {
    assert.equal(clientFirmware(new Map([[OPT.clientArch, arch(0)]])).pxe, true);
    assert.equal(clientFirmware(new Map([[OPT.vendorClass, Buffer.from('PXEClient:Arch:00000')]])).pxe, true);
    assert.equal(clientFirmware(new Map([[OPT.vendorClass, Buffer.from('udhcp 1.36')]])).pxe, false);
  });
});
