// images/installer/uefi-boot-entries.sh: which NVRAM entries a deploy replaces and the BootOrder it
// leaves (the installed OS first, then the network entry the machine booted from, then the rest),
// decided from efibootmgr's output as OVMF and real firmware print it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const SCRIPT = path.resolve(__dirname, '../../images/installer/uefi-boot-entries.sh');

function run(args: string[], efibootmgr: string): { code: number | null; out: string; err: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { input: efibootmgr, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// OVMF after a deploy's efibootmgr -c: the new entry (0005) first, an older deploy's (0004) left.
const AFTER_CREATE = [
  'BootCurrent: 0002',
  'Timeout: 0 seconds',
  'BootOrder: 0005,0001,0002,0004,0000',
  'Boot0000* UiApp\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)',
  'Boot0001* UEFI Misc Device\tPciRoot(0x0)/Pci(0x4,0x0){auto_created_boot_option}',
  'Boot0002* UEFI PXEv4 (MAC:5254004D4601)\tPciRoot(0x0)/Pci(0x3,0x0)/MAC(5254004d4601,1)/IPv4(0.0.0.0)',
  'Boot0004* debian\tHD(1,GPT,0b0e5a1f-0000-0000-0000-000000000001,0x800,0x100000)/File(\\EFI\\debian\\shimx64.efi)',
  'Boot0005* debian\tHD(1,GPT,0b0e5a1f-0000-0000-0000-000000000002,0x800,0x100000)/File(\\EFI\\debian\\shimx64.efi)',
  'Boot0006  debian-old\tHD(2,GPT,x)/File(\\EFI\\x.efi)',
  '',
].join('\n');

describe('uefi-boot-entries.sh', () => {
  it('order: the new entry first, then the one the machine booted from (the network), the rest in their order', () => {
    const r = run(['order', '0005'], AFTER_CREATE);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '0005,0002,0001,0004,0000\n');
  });

  it('order: entries missing from BootOrder are put in once, case aside', () => {
    assert.equal(run(['order', '0001'], 'BootCurrent: 0003\nBootOrder: 0003,0001\n').out, '0001,0003\n');
    assert.equal(run(['order', '0007'], 'BootCurrent: 000A\nBootOrder: 0001,0002\n').out, '0007,000A,0001,0002\n');
    assert.equal(run(['order', '0001'], 'BootCurrent: 000a\nBootOrder: 0001,000A\n').out, '0001,000a\n');
    // Booted from the new entry itself (no netboot): it is first once.
    assert.equal(run(['order', '0003'], 'BootCurrent: 0003\nBootOrder: 0001,0003\n').out, '0003,0001\n');
  });

  it('order: no BootCurrent (or a malformed one) leaves the new entry first, the rest as they were', () => {
    for (const out of [
      'BootOrder: 0001,0005\n',
      'BootCurrent: \nBootOrder: 0005,0001\n',
      'BootCurrent: 12;rm\nBootOrder: 0001,0005\n',
    ]) {
      const r = run(['order', '0005'], out);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, '0005,0001\n', out);
    }
  });

  it('order: refuses a new entry that is not 4 hex digits', () => {
    for (const bad of [[], ['5'], ['00051'], ['0;rm']])
      assert.equal(run(['order', ...bad], AFTER_CREATE).code, 2, bad.join());
  });

  it('stale: entries labelled exactly LABEL, active or not, with or without a device path', () => {
    assert.equal(run(['stale', 'debian'], AFTER_CREATE).out, '0004\n0005\n');
    assert.equal(run(['stale', 'debian'], 'Boot0007  debian\nBoot0008* debian \n').out, '0007\n');
    assert.equal(run(['stale', 'ubuntu'], AFTER_CREATE).out, '');
  });

  it('refuses a missing mode or label', () => {
    assert.equal(run([], '').code, 2);
    assert.notEqual(run(['stale'], '').code, 0);
  });
});
