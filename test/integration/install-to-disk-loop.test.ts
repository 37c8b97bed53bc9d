// images/installer/install-to-disk.sh run for real against loop devices (no QEMU): the real
// Debian root.tgz installed on custom partitions over two disks, on LVM, and on a RAID 1 over two
// loop files, each result read back with lsblk/blkid and the written fstab. Needs root (losetup),
// the image (images/debian/build.sh) and, for LVM and RAID, a kernel with device-mapper and md and
// the lvm/mdadm tools: what is missing skips its test with the reason.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const IMAGE = 'build/boot/images/rootfs/debian/bookworm/amd64/root.tgz';
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function loopSkip(): string | false {
  if (process.getuid?.() !== 0) return 'losetup needs root';
  if (!existsSync(IMAGE)) return `no ${IMAGE} (images/debian/build.sh builds it)`;
  if (spawnSync('losetup', ['-f']).status !== 0) return 'no free loop device';
  return false;
}
const kernelHas = (what: string): boolean =>
  readFileSync('/proc/devices', 'utf8').includes(what) || readFileSync('/proc/misc', 'utf8').includes(what);
const lvmSkip = (): string | false =>
  loopSkip() ||
  (!kernelHas('device-mapper') && 'this kernel has no device-mapper (LVM)') ||
  (!has('lvm') && 'no lvm command (apt-get install lvm2)');
const raidSkip = (): string | false =>
  loopSkip() ||
  (!existsSync('/proc/mdstat') && 'this kernel has no md (software RAID)') ||
  (!has('mdadm') && 'no mdadm command (apt-get install mdadm)');

/** Runs the installer over fresh loop devices; the description names them $DISK0 (/dev/loopN), $NAME0 (loopN), …. */
function install(sizesGiB: number[], description: string, check: (disks: string[], target: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mf-loop-install-'));
  const loops: string[] = [];
  try {
    for (const [i, size] of sizesGiB.entries()) {
      const file = join(dir, `disk${i}.img`);
      sh('truncate', ['-s', `${size}G`, file]);
      loops.push(sh('losetup', ['-f', '--show', file]).trim());
    }
    const storage = join(dir, 'storage');
    const loop = (i: string): string => loops[Number(i)]!;
    writeFileSync(
      storage,
      description
        .replace(/\$DISK(\d)/g, (_, i: string) => loop(i))
        .replace(/\$NAME(\d)/g, (_, i: string) => loop(i).slice(5)),
    );
    const target = join(dir, 'target');
    const r = spawnSync(
      'bash',
      [
        'images/installer/install-to-disk.sh',
        '--storage',
        storage,
        '--image',
        IMAGE,
        '--firmware',
        'bios',
        '--target',
        target,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /install-to-disk: step done/);
    // The script unmounted everything and let go of its VGs and RAIDs: the result is read from the
    // devices, the fstab by mounting / again.
    check(loops, target);
  } finally {
    for (const l of loops) {
      spawnSync('partx', ['-d', l]);
      spawnSync('losetup', ['-d', l]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const blkid = (dev: string, tag: string): string =>
  spawnSync('blkid', ['-p', '-s', tag, '-o', 'value', dev], { encoding: 'utf8' }).stdout.trim();
/** A disk's first sector, where GRUB's boot.img goes. */
function bootSector(dev: string): string {
  const fd = openSync(dev, 'r');
  try {
    const b = Buffer.alloc(512);
    readSync(fd, b, 0, 512, 0);
    return b.toString('latin1');
  } finally {
    closeSync(fd);
  }
}
const GPT_BIOS_BOOT = '21686148-6449-6E6F-744E-656564454649';
const GPT_LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const GPT_SWAP = '0657FD6D-A4AB-4C6F-8A4F-0B0A9BD7E3C2';
const part = (loop: string, n: number): string => `${loop}p${n}`;

/** The fstab of the installed root, whose filesystems must be the ones blkid finds, by UUID. */
function fstabOf(rootDev: string): string[][] {
  const mnt = mkdtempSync(join(tmpdir(), 'mf-loop-root-'));
  sh('mount', ['-o', 'ro', rootDev, mnt]);
  try {
    return readFileSync(join(mnt, 'etc/fstab'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/\s+/));
  } finally {
    sh('umount', [mnt]);
    rmSync(mnt, { recursive: true });
  }
}

const ROOT_UUID = '0e7c1a54-3f0b-4f44-9a52-6f4d2f3c9b10';
const SWAP_UUID = '5b1d0a3e-2c4f-4b6e-8a7d-9e0f1a2b3c4d';

describe('install-to-disk.sh on loop devices', () => {
  it(
    'custom partitions over two disks: / and swap on the first (their UUIDs given), /srv (mount options) on the second',
    { skip: loopSkip() },
    () => {
      const description = [
        'disk $DISK0',
        'part bios_grub 1M none none',
        `part linux 3G ext4 / root - ${ROOT_UUID}`,
        `part swap rest swap none - - ${SWAP_UUID}`,
        'disk $DISK1',
        'part linux rest ext4 /srv srv noatime,nodev',
        '',
      ].join('\n');
      install([4, 1], description, ([d0, d1]) => {
        // The kernel's view (lsblk: the partitions and their sizes) and the GPT's partition types
        // (sfdisk: lsblk has them only from udev's database, which a container lacks).
        const lsblk = JSON.parse(sh('lsblk', ['-J', '-b', '-o', 'NAME,SIZE', d0!, d1!])) as {
          blockdevices: { name: string; children?: { name: string; size: number }[] }[];
        };
        assert.deepEqual(
          lsblk.blockdevices.map((d) => (d.children ?? []).map((c) => c.name)),
          [[1, 2, 3].map((n) => part(d0!, n).slice(5)), [part(d1!, 1).slice(5)]],
        );
        const types = (d: string): string[] =>
          (
            JSON.parse(sh('sfdisk', ['-J', d])) as { partitiontable: { partitions: { type: string }[] } }
          ).partitiontable.partitions.map((p) => p.type);
        assert.deepEqual(types(d0!), [GPT_BIOS_BOOT, GPT_LINUX, GPT_SWAP]);
        assert.deepEqual(types(d1!), [GPT_LINUX]);
        assert.equal(lsblk.blockdevices[0]!.children![1]!.size, 3 * 1024 ** 3);
        assert.deepEqual(
          [
            blkid(part(d0!, 2), 'TYPE'),
            blkid(part(d0!, 2), 'LABEL'),
            blkid(part(d0!, 3), 'TYPE'),
            blkid(part(d1!, 1), 'LABEL'),
          ],
          ['ext4', 'root', 'swap', 'srv'],
        );
        // The UUIDs the description gives (format's, from the API) are the filesystems' own.
        assert.deepEqual([blkid(part(d0!, 2), 'UUID'), blkid(part(d0!, 3), 'UUID')], [ROOT_UUID, SWAP_UUID]);
        assert.deepEqual(fstabOf(part(d0!, 2)), [
          [`UUID=${blkid(part(d0!, 2), 'UUID')}`, '/', 'ext4', 'errors=remount-ro', '0', '1'],
          [`UUID=${blkid(part(d1!, 1), 'UUID')}`, '/srv', 'ext4', 'noatime,nodev', '0', '2'],
          [`UUID=${blkid(part(d0!, 3), 'UUID')}`, 'none', 'swap', 'sw', '0', '0'],
        ]);
        // GRUB's boot sector on the disk with the bios_grub partition.
        assert.match(bootSector(d0!), /GRUB/);
      });
    },
  );

  it(
    'LVM: /boot on a partition, / and /home as logical volumes of a VG over a partition and a second disk',
    { skip: lvmSkip() },
    () => {
      const description = [
        'disk $DISK0',
        'part bios_grub 1M none none',
        'part linux 512M ext4 /boot boot',
        'part linux rest none none',
        'disk $DISK1 whole',
        'vg vgtest $NAME0p3,$NAME1',
        'lv vgtest root 3G',
        'lv vgtest home rest',
        'fs vgtest-root ext4 /',
        'fs vgtest-home ext4 /home',
        '',
      ].join('\n');
      install([3, 2], description, ([d0]) => {
        try {
          sh('vgchange', ['-ay', 'vgtest']);
          assert.deepEqual(sh('lvs', ['--noheadings', '-o', 'lv_name', 'vgtest']).split(/\s+/).filter(Boolean).sort(), [
            'home',
            'root',
          ]);
          const fstab = fstabOf('/dev/mapper/vgtest-root');
          assert.deepEqual(
            fstab.map((l) => [l[0], l[1]]),
            [
              [`UUID=${blkid('/dev/mapper/vgtest-root', 'UUID')}`, '/'],
              [`UUID=${blkid(part(d0!, 2), 'UUID')}`, '/boot'],
              [`UUID=${blkid('/dev/mapper/vgtest-home', 'UUID')}`, '/home'],
            ],
          );
        } finally {
          spawnSync('vgchange', ['-an', 'vgtest']);
        }
      });
    },
  );

  it('RAID 1 over two loop files holding /, GRUB on both', { skip: raidSkip() }, () => {
    const description = [
      'disk $DISK0',
      'part bios_grub 1M none none',
      'part linux rest none none',
      'disk $DISK1',
      'part bios_grub 1M none none',
      'part linux rest none none',
      'raid md0 1 $NAME0p2,$NAME1p2',
      'fs md0 ext4 /',
      '',
    ].join('\n');
    install([3, 3], description, ([d0, d1]) => {
      assert.equal(blkid(part(d0!, 2), 'TYPE'), 'linux_raid_member');
      assert.equal(blkid(part(d1!, 2), 'TYPE'), 'linux_raid_member');
      for (const d of [d0!, d1!]) assert.match(bootSector(d), /GRUB/);
    });
  });
});
