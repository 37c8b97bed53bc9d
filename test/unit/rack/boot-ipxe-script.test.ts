import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BOOT_HTTP, CMDLINE } from '../../../src/contracts/boot';
import type { BootConfig, MacBootConfig } from '../../../src/contracts/rack-api';
import { bootScript, httpBase, macScript, UnsafeBootValueError } from '../../../src/rack/boot/ipxe-script';
import { macFromHyphens } from '../../../src/rack/boot/mac';

const BASE = 'http://10.77.0.1:5248';
const machine = (purpose: BootConfig['purpose'], patch: Partial<BootConfig> = {}): MacBootConfig => ({
  known: true,
  systemId: 'abc123',
  hostname: 'node-1',
  purpose,
  macAddresses: ['52:54:00:12:34:56'],
  metadataUrl: 'http://region:5240/MAAS/metadata/',
  credentials: { consumerKey: 'ck1', tokenKey: 'tk2', tokenSecret: 'ts3' },
  ...patch,
});

/** The kernel line's `key=value` arguments. */
function cmdline(script: string): Map<string, string> {
  const line = script.split('\n').find((l) => l.startsWith('kernel '));
  assert.ok(line, `no kernel line in:\n${script}`);
  return new Map(
    line
      .split(' ')
      .slice(2)
      .map((arg) => [arg.split('=')[0]!, arg.slice(arg.indexOf('=') + 1)]),
  );
}

describe('iPXE scripts', () => {
  it('the first script chains to the per-MAC script on the same server, with iPXE filling in the MAC', () => {
    const script = bootScript(BASE);
    assert.match(script, /^#!ipxe\n/);
    const chain = script.split('\n').find((l) => l.startsWith('chain '));
    assert.equal(chain, `chain --replace ${BASE}/ipxe/mac/\${mac:hexhyp}.ipxe || goto failed1`);
    // What iPXE requests once it substitutes the MAC is exactly the contract's path.
    const url = chain!.split(' ')[2]!.replace('${mac:hexhyp}', '52-54-00-12-34-56');
    assert.equal(url, `${BASE}${BOOT_HTTP.macScript('52:54:00:12:34:56')}`);
    // It gives up eventually (a deployed machine then boots its disk).
    assert.match(script, /\nexit 1\n$/);
  });

  for (const purpose of ['commissioning', 'xinstall'] as const) {
    it(`${purpose} boots the ephemeral environment with the machine's credentials, through the rack`, () => {
      const script = macScript(machine(purpose), { base: BASE });
      const lines = script.split('\n');
      assert.equal(lines[0], '#!ipxe');
      assert.ok(
        lines.some((l) => l.startsWith(`kernel ${BASE}/images/ephemeral/amd64/vmlinuz initrd=initrd.gz `)),
        script,
      );
      assert.ok(lines.includes(`initrd ${BASE}/images/ephemeral/amd64/initrd.gz`), script);
      assert.equal(lines.filter(Boolean).at(-1), 'boot');
      const args = cmdline(script);
      assert.equal(args.get('BOOTIF'), '01-${mac:hexhyp}');
      assert.equal(args.get('panic'), '-1');
      assert.equal(args.get(CMDLINE.purpose), purpose);
      assert.equal(args.get(CMDLINE.metadataUrl), `${BASE}/MAAS/metadata`);
      assert.equal(args.get(CMDLINE.apiUrl), `${BASE}/MAAS`);
      assert.equal(args.get(CMDLINE.consumerKey), 'ck1');
      assert.equal(args.get(CMDLINE.tokenKey), 'tk2');
      assert.equal(args.get(CMDLINE.tokenSecret), 'ts3');
      assert.equal(args.get(CMDLINE.systemId), 'abc123');
      // The serial console comes last: it is /dev/console, what the BMC's SOL records.
      const line = lines.find((l) => l.startsWith('kernel '))!;
      assert.ok(line.indexOf('console=tty0') < line.indexOf('console=ttyS0'), line);
    });
  }

  it('xinstall carries the image URL on this rack and its SHA-256; commissioning for release carries the erase mode', () => {
    const sha = 'a'.repeat(64);
    const install = cmdline(
      macScript(
        machine('xinstall', {
          image: { name: 'debian/bookworm', path: '/images/os/debian/bookworm/amd64/disk.img.gz', sha256: sha },
        }),
        { base: BASE },
      ),
    );
    assert.equal(install.get(CMDLINE.image), `${BASE}/images/os/debian/bookworm/amd64/disk.img.gz`);
    assert.equal(install.get(CMDLINE.imageSha256), sha);
    assert.equal(install.get(CMDLINE.erase), undefined);
    assert.equal(install.get(CMDLINE.ephemeral), undefined, 'installed to disk unless the deploy is ephemeral');
    const image = { name: 'debian/bookworm', path: '/images/rootfs/debian/bookworm/amd64/root.tgz', sha256: sha };
    const ram = cmdline(macScript(machine('xinstall', { image, ephemeral: true }), { base: BASE }));
    assert.equal(ram.get(CMDLINE.ephemeral), '1');
    // The DEPLOYED machine's reboot: the same OS from RAM, without reporting to a deployment.
    const again = cmdline(macScript(machine('xinstall', { image, ephemeral: true, deployed: true }), { base: BASE }));
    assert.equal(again.get(CMDLINE.ephemeral), 'again');
    assert.equal(again.get(CMDLINE.image), `${BASE}/images/rootfs/debian/bookworm/amd64/root.tgz`);
    assert.equal(ram.get(CMDLINE.image), `${BASE}/images/rootfs/debian/bookworm/amd64/root.tgz`);
    const erase = cmdline(macScript(machine('commissioning', { erase: 'secure,quick' }), { base: BASE }));
    assert.equal(erase.get(CMDLINE.erase), 'secure,quick');
    assert.equal(erase.get(CMDLINE.image), undefined);
    assert.equal(cmdline(macScript(machine('commissioning'), { base: BASE })).get(CMDLINE.erase), undefined);
    assert.throws(
      () => macScript(machine('xinstall', { image: { name: 'x', path: '/images/a b', sha256: sha } }), { base: BASE }),
      UnsafeBootValueError,
    );
  });

  it('enlistment is anonymous: no credentials, no system_id', () => {
    const unknown: MacBootConfig = {
      known: false,
      purpose: 'enlist',
      mac: '52:54:00:aa:bb:cc',
      metadataUrl: 'http://region/MAAS/metadata/',
    };
    for (const config of [unknown, machine('enlist')]) {
      const args = cmdline(macScript(config, { base: BASE }));
      assert.equal(args.get(CMDLINE.purpose), 'enlist');
      assert.equal(args.get(CMDLINE.apiUrl), `${BASE}/MAAS`);
      for (const key of [CMDLINE.consumerKey, CMDLINE.tokenKey, CMDLINE.tokenSecret, CMDLINE.systemId])
        assert.equal(args.has(key), false, key);
    }
  });

  it('local boots the first disk (or hands back to UEFI); poweroff powers off; neither loads a kernel', () => {
    const local = macScript(machine('local'), { base: BASE });
    assert.match(local, /\nsanboot --no-describe --drive 0x80 \|\| exit 1\n/);
    const off = macScript(machine('poweroff'), { base: BASE });
    assert.match(off, /\npoweroff\n/);
    for (const s of [local, off]) assert.doesNotMatch(s, /^kernel /m);
  });

  it('another architecture changes the image paths', () => {
    const script = macScript(machine('commissioning'), { base: BASE, arch: 'arm64' });
    assert.match(script, /\/images\/ephemeral\/arm64\/vmlinuz /);
  });

  it('refuses values that would break out of a kernel argument or an iPXE line', () => {
    const bad = [
      ' space',
      'tab\there',
      'new\nline',
      'ctl\u0001',
      'quote"',
      "single'",
      '${evil}',
      'a;b',
      'a|b',
      'a&b',
      'back\\slash',
      '',
    ];
    for (const value of bad) {
      for (const patch of [
        { credentials: { consumerKey: 'ck', tokenKey: value, tokenSecret: 'ts' } },
        { systemId: value },
      ]) {
        assert.throws(
          () => macScript(machine('commissioning', patch), { base: BASE }),
          UnsafeBootValueError,
          JSON.stringify(value),
        );
      }
    }
    assert.throws(
      () => macScript(machine('commissioning'), { base: BASE, arch: 'amd64 init=/bin/sh' }),
      UnsafeBootValueError,
    );
    assert.throws(() => bootScript('http://x y'), UnsafeBootValueError);
    // Characters tokens and URLs really use pass.
    const ok = macScript(
      machine('commissioning', { credentials: { consumerKey: 'Ab9-_.~', tokenKey: 'x%2B', tokenSecret: 'a+b=c,d' } }),
      { base: BASE },
    );
    assert.equal(cmdline(ok).get(CMDLINE.tokenSecret), 'a+b=c,d');
  });

  it('an unknown purpose from the region is refused, not rendered', () => {
    assert.throws(
      () => macScript({ ...machine('local'), purpose: 'rescue' } as unknown as MacBootConfig, { base: BASE }),
      UnsafeBootValueError,
    );
  });

  it('server URLs: IPv4, v4-mapped IPv6 unwrapped, IPv6 in brackets', () => {
    assert.equal(httpBase('10.0.0.1', 5248), 'http://10.0.0.1:5248');
    assert.equal(httpBase('::ffff:10.0.0.1', 5248), 'http://10.0.0.1:5248');
    assert.equal(httpBase('fd77::1', 5248), 'http://[fd77::1]:5248');
  });

  it('MACs in script URLs', () => {
    assert.equal(macFromHyphens('52-54-00-AB-cd-EF'), '52:54:00:ab:cd:ef');
    for (const bad of [
      '52:54:00:ab:cd:ef',
      '52-54-00-ab-cd',
      '52-54-00-ab-cd-ef-01',
      'zz-54-00-ab-cd-ef',
      '../etc/passwd',
      '',
    ])
      assert.equal(macFromHyphens(bad), undefined, bad);
  });
});
