// MAAS's storage layouts as pure plans, and the installer description rendered from a storage
// model, checked against install-to-disk.sh's own parser (it stops at the device check only
// once every line parsed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../src/region/errors';
import { installerStorage, storageIssues } from '../../../src/region/services/storage/installer-description';
import { parseSize, planLayout } from '../../../src/region/services/storage/layouts';
import { GiB, MiB, type MachineStorage, type StoredBlockDevice } from '../../../src/region/services/storage/model';

const GB = 1e9;
const disk = (id: number, name: string, size: number): StoredBlockDevice => ({
  id,
  machineId: 1,
  type: 'physical',
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
  filesystemGroupId: null,
});
const storage = (
  biosBootMethod: string,
  devices = [disk(1, 'sda', 100 * GB), disk(2, 'sdb', 50 * GB)],
): MachineStorage => ({
  systemId: 'abc123',
  biosBootMethod,
  architecture: 'amd64/generic',
  devices,
  tables: [],
  partitions: [],
  filesystems: [],
  groups: [],
});

/** The plan written into a storage model, as the repository would (ids in order). */
function apply(s: MachineStorage, layout: 'flat' | 'lvm'): MachineStorage {
  const plan = planLayout(s, layout, {});
  const out = structuredClone(s);
  let id = 100;
  for (const t of plan.tables) {
    const table = { id: id++, blockDeviceId: t.deviceId, tableType: 'GPT' };
    out.tables.push(table);
    for (const [i, p] of t.partitions.entries()) {
      const part = {
        id: id++,
        partitionTableId: table.id,
        index: i + 1,
        uuid: 'u',
        size: p.size,
        bootable: p.bootable,
        tags: [],
      };
      out.partitions.push(part);
      const fs = p.use === 'lvm-pv' ? { fstype: 'lvm-pv', label: '', mountPoint: null } : p.use;
      out.filesystems.push({
        id: id++,
        blockDeviceId: null,
        partitionId: part.id,
        fstype: fs.fstype,
        label: fs.label,
        // None chosen (the installer's mkfs makes one); a given UUID goes into the description.
        uuid: '',
        mountPoint: fs.mountPoint,
        mountOptions: null,
        filesystemGroupId: p.use === 'lvm-pv' ? 1 : null,
      });
    }
  }
  if (plan.volumeGroup) out.groups.push({ id: 1, name: plan.volumeGroup.name, groupType: 'lvm-vg', uuid: 'u' });
  return out;
}

function parsesInScript(description: string, firmware: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mf-storage-'));
  try {
    writeFileSync(join(dir, 'storage'), description);
    writeFileSync(join(dir, 'root.tgz'), '');
    const r = spawnSync(
      'bash',
      [
        'images/installer/install-to-disk.sh',
        '--storage',
        join(dir, 'storage'),
        '--image',
        join(dir, 'root.tgz'),
        '--firmware',
        firmware,
      ],
      { encoding: 'utf8' },
    );
    return r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('storage layouts (MAAS storage_layouts.py)', () => {
  it('flat on UEFI: a 512 MiB ESP and the rest as ext4 /; on BIOS no ESP', () => {
    const uefi = planLayout(storage('uefi'), 'flat', {});
    assert.deepEqual(
      uefi.tables[0]!.partitions.map((p) => [p.size, p.use === 'lvm-pv' ? 'pv' : p.use.mountPoint]),
      [
        [512 * MiB, '/boot/efi'],
        [Math.floor((100 * GB - 5 * MiB - 512 * MiB) / (4 * MiB)) * 4 * MiB, '/'],
      ],
    );
    assert.equal(planLayout(storage('pxe'), 'flat', {}).tables[0]!.partitions.length, 1);
  });

  it("MAAS's minimum sizes and messages", () => {
    const s = storage('uefi');
    assert.throws(
      () => planLayout(s, 'flat', { bootSize: String(512 * MiB - 1) }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.deepEqual(e.fields, { boot_size: [`Size is too small. Minimum size is ${512 * MiB}.`] });
        return true;
      },
    );
    assert.throws(() => planLayout(s, 'flat', { rootSize: '2G' }), /root_size: Size is too small/);
    assert.throws(() => planLayout(s, 'lvm', { lvSize: '1G' }), /lv_size: Size is too small/);
    assert.throws(() => planLayout(storage('uefi', []), 'flat', {}), /missing a boot disk/);
    assert.throws(() => planLayout(storage('uefi', [disk(1, 'sda', 2 * GiB)]), 'flat', {}), /minimum is/);
  });

  it('sizes: bytes, SI suffixes, percentages', () => {
    assert.equal(parseSize('x', '1024', 0), 1024);
    assert.equal(parseSize('x', '10G', 0), 10 * GB);
    assert.equal(parseSize('x', '50%', 1000), 500);
    assert.throws(() => parseSize('x', '0%', 1000), /Percentage/);
    assert.throws(() => parseSize('x', 'ten', 0), /not a valid size/);
  });
});

describe('the installer description (install-to-disk.sh)', () => {
  it('renders flat on UEFI with the ESP, and on BIOS with a bios_grub partition; the script parses both', () => {
    const uefi = installerStorage(apply(storage('uefi'), 'flat'));
    assert.ok(uefi.ok, JSON.stringify(uefi));
    assert.equal(uefi.firmware, 'uefi');
    assert.deepEqual(uefi.description.split('\n').slice(1), [
      'disk /dev/sda',
      'part esp 512M vfat /boot/efi efi',
      'part linux rest ext4 / root',
      '',
    ]);
    assert.match(parsesInScript(uefi.description, 'uefi'), /FAILED at step parse: \/dev\/sda is not a block device/);

    const bios = installerStorage(apply(storage('pxe'), 'flat'));
    assert.ok(bios.ok, JSON.stringify(bios));
    assert.deepEqual(bios.description.split('\n').slice(1, 4), [
      'disk /dev/sda',
      'part bios_grub 1M none none',
      'part linux rest ext4 / root',
    ]);
    assert.match(parsesInScript(bios.description, 'bios'), /FAILED at step parse: \/dev\/sda is not a block device/);
  });

  it('refuses what cannot boot (no /, no ESP on UEFI)', () => {
    assert.deepEqual(storageIssues(storage('pxe')), ["Mount the root '/' filesystem to be able to deploy this node."]);
    const noEsp = apply(storage('pxe'), 'flat');
    noEsp.biosBootMethod = 'uefi';
    const r = installerStorage(noEsp);
    assert.ok(!r.ok);
    assert.match(r.problems.join(), /UEFI: mount a fat32 EFI system partition/);
    // apply() writes no logical volumes: the volume group alone leaves / unmounted.
    const lvm = installerStorage(apply(storage('uefi'), 'lvm'));
    assert.deepEqual(lvm.ok ? [] : lvm.problems, ["Mount the root '/' filesystem to be able to deploy this node."]);
  });
});
