// The installer description for each construct of MAAS's storage model (several disks, partitions
// anywhere, RAID 0/1/5/6/10 with spares, LVM over partitions/disks/RAIDs, filesystems with mount
// options), each one also read by install-to-disk.sh's own parser: it stops at the device check
// only once every line parsed, so a line it cannot read fails the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { installerStorage } from '../../../src/region/services/storage/installer-description';
import { GiB, MiB, type MachineStorage, type StoredFilesystem } from '../../../src/region/services/storage/model';

/** A storage model built the way the repository stores it, ids in order. */
class Builder {
  readonly s: MachineStorage;
  private id = 1;
  constructor(bootMethod = 'pxe') {
    this.s = {
      systemId: 'abc123',
      biosBootMethod: bootMethod,
      architecture: 'amd64/generic',
      devices: [],
      tables: [],
      partitions: [],
      filesystems: [],
      groups: [],
    };
  }
  disk(name: string, size = 20 * GiB, groupId: number | null = null): number {
    const id = this.id++;
    this.s.devices.push({
      id,
      machineId: 1,
      type: groupId === null ? 'physical' : 'virtual',
      name,
      path: `/dev/disk/by-dname/${name}`,
      model: '',
      serial: `S${id}`,
      idPath: '',
      size,
      blockSize: 512,
      tags: [],
      isBoot: false,
      uuid: null,
      filesystemGroupId: groupId,
    });
    return id;
  }
  /** Partitions of the given sizes (MiB) on a device; their ids. */
  parts(deviceId: number, sizesMiB: number[]): number[] {
    const table = { id: this.id++, blockDeviceId: deviceId, tableType: 'GPT' };
    this.s.tables.push(table);
    return sizesMiB.map((size, i) => {
      const id = this.id++;
      this.s.partitions.push({
        id,
        partitionTableId: table.id,
        index: i + 1,
        uuid: 'u',
        size: size * MiB,
        bootable: false,
        tags: [],
      });
      return id;
    });
  }
  fs(
    on: { partitionId: number } | { blockDeviceId: number },
    fstype: string,
    mountPoint: string | null = null,
    more: Partial<StoredFilesystem> = {},
  ): void {
    this.s.filesystems.push({
      id: this.id++,
      blockDeviceId: null,
      partitionId: null,
      ...on,
      fstype,
      label: '',
      uuid: '',
      mountPoint,
      mountOptions: null,
      filesystemGroupId: null,
      ...more,
    });
  }
  group(
    name: string,
    groupType: string,
    members: ({ partitionId: number } | { blockDeviceId: number })[],
    spares: typeof members = [],
  ): number {
    const id = this.id++;
    this.s.groups.push({ id, name, groupType, uuid: 'u' });
    const role = groupType === 'lvm-vg' ? 'lvm-pv' : 'raid';
    for (const m of members) this.fs(m, role, null, { filesystemGroupId: id });
    for (const m of spares) this.fs(m, 'raid-spare', null, { filesystemGroupId: id });
    return id;
  }
}

function render(b: Builder): string[] {
  const r = installerStorage(b.s);
  assert.ok(r.ok, JSON.stringify(r));
  const stderr = parsedByScript(r.description, r.firmware);
  assert.match(stderr, /FAILED at step parse: \/dev\/\w+ is not a block device/, stderr);
  return r.description.split('\n').slice(1, -1);
}

function parsedByScript(description: string, firmware: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mf-storage-'));
  try {
    writeFileSync(join(dir, 'storage'), description);
    writeFileSync(join(dir, 'root.tgz'), '');
    const args = ['--storage', join(dir, 'storage'), '--image', join(dir, 'root.tgz'), '--firmware', firmware];
    return spawnSync('bash', ['images/installer/install-to-disk.sh', ...args], { encoding: 'utf8' }).stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('installer description: what the storage model expresses', () => {
  it('custom partitions on two disks: xfs, swap, labels and mount options; an unused disk is left alone', () => {
    const b = new Builder();
    const sda = b.disk('sda');
    const sdb = b.disk('sdb');
    b.disk('sdc');
    const [root, swap] = b.parts(sda, [4096, 1024]);
    const [srv] = b.parts(sdb, [20 * 1024 - 8]);
    b.fs({ partitionId: root! }, 'ext4', '/', { label: 'root' });
    b.fs({ partitionId: swap! }, 'swap', 'none');
    b.fs({ partitionId: srv! }, 'xfs', '/srv', { mountOptions: 'noatime,nodev' });
    assert.deepEqual(render(b), [
      'disk /dev/sda',
      'part bios_grub 1M none none',
      'part linux 4096M ext4 / root',
      'part swap 1024M swap none',
      'disk /dev/sdb',
      'part linux rest xfs /srv - noatime,nodev',
    ]);
  });

  it('LVM: a volume group over a partition of the boot disk and a whole disk, LVs with filesystems, the last one `rest`', () => {
    const b = new Builder('uefi');
    const sda = b.disk('sda');
    const sdb = b.disk('sdb', 10 * GiB);
    const [esp, pv] = b.parts(sda, [512, 20 * 1024 - 512 - 8]);
    b.fs({ partitionId: esp! }, 'fat32', '/boot/efi', { label: 'efi' });
    const vg = b.group('vgroot', 'lvm-vg', [{ partitionId: pv! }, { blockDeviceId: sdb }]);
    const lvRoot = b.disk('vgroot-root', 8 * GiB, vg);
    const lvHome = b.disk('vgroot-home', 30 * GiB - 8 * GiB - 12 * MiB, vg);
    b.fs({ blockDeviceId: lvRoot }, 'ext4', '/');
    b.fs({ blockDeviceId: lvHome }, 'ext4', '/home');
    assert.deepEqual(render(b), [
      'disk /dev/sda',
      'part esp 512M vfat /boot/efi efi',
      'part linux rest none none',
      'disk /dev/sdb whole',
      'vg vgroot sda2,sdb',
      'lv vgroot root 8192M',
      'lv vgroot home rest',
      'fs vgroot-root ext4 /',
      'fs vgroot-home ext4 /home',
    ]);
  });

  it('RAID 1 root with a spare on BIOS: GRUB (a bios_grub partition) on every member disk, spares too (one may take over)', () => {
    const b = new Builder();
    const [sda, sdb, sdc] = [b.disk('sda'), b.disk('sdb'), b.disk('sdc')];
    const members = [sda, sdb, sdc].map((d) => b.parts(d, [20 * 1024 - 8])[0]!);
    const md = b.group(
      'md0',
      'raid-1',
      [{ partitionId: members[0]! }, { partitionId: members[1]! }],
      [{ partitionId: members[2]! }],
    );
    b.fs({ blockDeviceId: b.disk('md0', 20 * GiB, md) }, 'ext4', '/');
    assert.deepEqual(render(b), [
      'disk /dev/sda',
      'part bios_grub 1M none none',
      'part linux rest none none',
      'disk /dev/sdb',
      'part bios_grub 1M none none',
      'part linux rest none none',
      'disk /dev/sdc',
      'part bios_grub 1M none none',
      'part linux rest none none',
      'raid md0 1 sda2,sdb2 sdc2',
      'fs md0 ext4 /',
    ]);
  });

  it('RAID 0, 5, 6, 10 over whole disks, a partitioned RAID, and LVM over a RAID', () => {
    const b = new Builder();
    const sda = b.disk('sda');
    const [root] = b.parts(sda, [4096]);
    b.fs({ partitionId: root! }, 'ext4', '/');
    const disks = [
      'sdb',
      'sdc',
      'sdd',
      'sde',
      'sdf',
      'sdg',
      'sdh',
      'sdi',
      'sdj',
      'sdk',
      'sdl',
      'sdm',
      'sdn',
      'sdo',
    ].map((n) => b.disk(n));
    const whole = (ids: number[]) => ids.map((blockDeviceId) => ({ blockDeviceId }));
    const r5 = b.group('md5', 'raid-5', whole(disks.slice(0, 3)));
    const md5 = b.disk('md5', 40 * GiB, r5);
    const [data, logs] = b.parts(md5, [1024, 40 * 1024 - 1024 - 8]);
    b.fs({ partitionId: data! }, 'xfs', '/data');
    b.fs({ partitionId: logs! }, 'ext4', '/var/log');
    const r6 = b.group('md6', 'raid-6', whole(disks.slice(3, 7)));
    b.fs({ blockDeviceId: b.disk('md6', 40 * GiB, r6) }, 'ext4', '/srv');
    const r10 = b.group('md10', 'raid-10', whole(disks.slice(7, 10)), whole(disks.slice(10, 11)));
    b.fs({ blockDeviceId: b.disk('md10', 30 * GiB, r10) }, 'swap', 'none');
    const r0 = b.group('md0', 'raid-0', whole(disks.slice(11, 13)));
    const vg = b.group('vgdata', 'lvm-vg', [{ blockDeviceId: b.disk('md0', 40 * GiB, r0) }]);
    b.fs({ blockDeviceId: b.disk('vgdata-scratch', 1 * GiB, vg) }, 'ext4', '/scratch');
    assert.deepEqual(render(b), [
      'disk /dev/sda',
      'part bios_grub 1M none none',
      'part linux 4096M ext4 /',
      'disk /dev/sdb whole',
      'disk /dev/sdc whole',
      'disk /dev/sdd whole',
      'disk /dev/sde whole',
      'disk /dev/sdf whole',
      'disk /dev/sdg whole',
      'disk /dev/sdh whole',
      'disk /dev/sdi whole',
      'disk /dev/sdj whole',
      'disk /dev/sdk whole',
      'disk /dev/sdl whole',
      'disk /dev/sdm whole',
      'disk /dev/sdn whole',
      'raid md5 5 sdb,sdc,sdd -',
      'disk md5',
      'part linux 1024M xfs /data',
      'part linux rest ext4 /var/log',
      'raid md6 6 sde,sdf,sdg,sdh -',
      'raid md10 10 sdi,sdj,sdk sdl',
      'raid md0 0 sdm,sdn -',
      'vg vgdata md0',
      'lv vgdata scratch 1024M',
      'fs md6 ext4 /srv',
      'fs md10 swap none',
      'fs vgdata-scratch ext4 /scratch',
    ]);
  });

  it('refuses with the problem named: a filesystem the installer cannot make, a BIOS boot disk used whole, blanks in fstab', () => {
    const b = new Builder();
    const sda = b.disk('sda');
    b.fs({ blockDeviceId: sda }, 'btrfs', '/', { mountOptions: 'a, b' });
    const r = installerStorage(b.s);
    assert.ok(!r.ok);
    assert.deepEqual(r.problems, [
      'GRUB needs a bios_grub partition on the boot disk sda, which is used whole: partition it.',
      'install-to-disk.sh makes ext4, xfs, fat32 (vfat) and swap filesystems; not btrfs.',
      "The mount options 'a, b' of / have white space, which fstab cannot hold.",
    ]);
  });

  it("format's UUID reaches mkfs (not FAT's, which has only a volume id); labels ride along up to each mkfs's limit", () => {
    const b = new Builder('uefi');
    const sda = b.disk('sda');
    const [esp, root, swap] = b.parts(sda, [512, 8192, 1024]);
    b.fs({ partitionId: esp! }, 'fat32', '/boot/efi', {
      label: 'EFI-SYSTEM1',
      uuid: 'dfb07d6c-8a8e-4a7e-9d1b-2a7c2bd1e9a1',
    });
    b.fs({ partitionId: root! }, 'xfs', '/', { label: 'root.fs_12ch', uuid: '0e7c1a54-3f0b-4f44-9a52-6f4d2f3c9b10' });
    b.fs({ partitionId: swap! }, 'swap', 'none', { uuid: '5b1d0a3e-2c4f-4b6e-8a7d-9e0f1a2b3c4d' });
    assert.deepEqual(render(b), [
      'disk /dev/sda',
      'part esp 512M vfat /boot/efi EFI-SYSTEM1',
      'part linux 8192M xfs / root.fs_12ch - 0e7c1a54-3f0b-4f44-9a52-6f4d2f3c9b10',
      'part swap 1024M swap none - - 5b1d0a3e-2c4f-4b6e-8a7d-9e0f1a2b3c4d',
    ]);
  });

  it('refuses, naming it, a label longer than its mkfs takes or with characters the line cannot hold, and a bad UUID', () => {
    const b = new Builder('uefi');
    const sda = b.disk('sda');
    const [esp, root, data, swap] = b.parts(sda, [512, 8192, 1024, 1024]);
    b.fs({ partitionId: esp! }, 'fat32', '/boot/efi', { label: 'EFI-SYSTEM12' });
    b.fs({ partitionId: root! }, 'xfs', '/', { label: 'root.fs_13chr' });
    b.fs({ partitionId: data! }, 'ext4', '/data', { label: 'my data', uuid: 'not-a-uuid' });
    b.fs({ partitionId: swap! }, 'swap', 'none', { label: 'swap-label-16chr' });
    const r = installerStorage(b.s);
    assert.ok(!r.ok);
    const rule = (n: number) => `at most ${n} characters, letters, digits, '_', '.' and '-' (not first).`;
    assert.deepEqual(r.problems, [
      `/boot/efi: 'EFI-SYSTEM12' is not a valid fat32 label: ${rule(11)}`,
      `/: 'root.fs_13chr' is not a valid xfs label: ${rule(12)}`,
      `/data: 'my data' is not a valid ext4 label: ${rule(16)}`,
      "/data: 'not-a-uuid' is not a valid filesystem UUID.",
      `none: 'swap-label-16chr' is not a valid swap label: ${rule(15)}`,
    ]);
  });

  it('the script checks labels and UUIDs before it touches a disk: too long for mkfs, a UUID for vfat', () => {
    const parse = (line: string) => parsedByScript(`disk /dev/nosuch\npart bios_grub 1M none none\n${line}\n`, 'bios');
    assert.match(
      parse('part linux rest vfat /boot/efi EFI-SYSTEM12'),
      /FAILED at step parse: nosuch2: 'EFI-SYSTEM12' is not a vfat label/,
    );
    assert.match(parse('part linux rest xfs / root.fs_13chr'), /'root.fs_13chr' is not a xfs label \(at most 12/);
    const vfatUuid = 'part esp rest vfat /boot/efi - - 0e7c1a54-3f0b-4f44-9a52-6f4d2f3c9b10';
    assert.match(parse(vfatUuid), /nosuch2: vfat takes no UUID/);
    assert.match(parse('part linux rest ext4 / - - 0E7C'), /nosuch2: '0E7C' is not a UUID/);
  });

  it('the script refuses a description naming what no line above defines, or a device used twice', () => {
    const undefinedMember = 'disk /dev/nosuch\npart linux rest none none\nvg vg0 sdz1\n';
    assert.match(parsedByScript(undefinedMember, 'bios'), /vg vg0 names 'sdz1', which no line above defines/);
    const twice = 'disk /dev/nosuch\npart linux rest ext4 /\nraid md0 1 nosuch1,nosuch1\n';
    assert.match(parsedByScript(twice, 'bios'), /'nosuch1' is used twice/);
  });
});
