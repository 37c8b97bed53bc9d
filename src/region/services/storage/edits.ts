// The storage edits MAAS's block device, partition, volume group and RAID handlers make, each
// checked against the loaded storage (MAAS's form rules and messages) before it writes. Runs in
// the caller's transaction with the machine's row locked (storage-service.ts).
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../../errors';
import { checkLvmName } from './layouts';
import {
  alignDown,
  deviceOfPartition,
  filesystemOf,
  FORMAT_FSTYPES,
  labelProblem,
  MIN_PARTITION_SIZE,
  partitionName,
  partitionsOf,
  RAID_LEVELS,
  RAID_MIN_DEVICES,
  raidSize,
  tableFreeSpace,
  tableOf,
  UUID_FSTYPES,
  volumeGroupFree,
  type MachineStorage,
  type RaidLevel,
  type StoredBlockDevice,
  type StoredGroup,
  type StoredPartition,
} from './model';
import { parseSize } from './layouts';
import {
  ensurePartitionTable,
  insertFilesystem,
  insertGroup,
  insertPartition,
  insertVirtualDevice,
} from './repository';

export type Target = { blockDeviceId: number } | { partitionId: number };

const bad = (field: string, message: string) => ValidationError.field(field, message);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkUuid(uuid: string | undefined): string | undefined {
  if (uuid !== undefined && !UUID.test(uuid)) throw bad('uuid', 'Enter a valid UUID.');
  return uuid?.toLowerCase();
}

export class StorageEdits {
  constructor(
    private readonly tx: EntityManager,
    private readonly machineId: number,
    private readonly s: MachineStorage,
  ) {}

  private whatOf(on: Target): string {
    return 'blockDeviceId' in on ? 'block device' : 'partition';
  }

  /** A device or partition that nothing else uses: no filesystem, no partitions, no group. */
  private assertUnused(on: Target, field: string): void {
    const name = this.nameOf(on);
    if (filesystemOf(this.s, on)) throw bad(field, `${name} is already in use (${this.fsUse(on)}).`);
    if ('blockDeviceId' in on && tableOf(this.s, on.blockDeviceId))
      throw bad(field, `${name} is partitioned; use one of its partitions or delete them first.`);
  }
  private fsUse(on: Target): string {
    const f = filesystemOf(this.s, on)!;
    return f.filesystemGroupId === null
      ? `formatted ${f.fstype}`
      : `a member of ${this.groupName(f.filesystemGroupId)}`;
  }
  private groupName(id: number): string {
    return this.s.groups.find((g) => g.id === id)?.name ?? String(id);
  }
  nameOf(on: Target): string {
    if ('blockDeviceId' in on) return this.s.devices.find((d) => d.id === on.blockDeviceId)!.name;
    const p = this.s.partitions.find((x) => x.id === on.partitionId)!;
    return partitionName(deviceOfPartition(this.s, p), p.index);
  }

  async format(on: Target, fstype: string, uuid?: string, label?: string): Promise<void> {
    if (!(FORMAT_FSTYPES as readonly string[]).includes(fstype))
      throw bad('fstype', `Select a valid choice. ${fstype} is not one of the available choices.`);
    if ('blockDeviceId' in on && tableOf(this.s, on.blockDeviceId))
      throw bad('__all__', 'Cannot format a block device that has partitions.');
    const existing = filesystemOf(this.s, on);
    if (existing?.filesystemGroupId != null)
      throw bad('__all__', `Cannot format ${this.nameOf(on)}: it is ${this.fsUse(on)}.`);
    // The installer hands label and uuid to mkfs: refused here, not after deploy wiped the disks.
    const labelError = labelProblem(fstype, label ?? '');
    if (labelError) throw bad('label', labelError);
    const checked = checkUuid(uuid);
    if (checked !== undefined && !UUID_FSTYPES.includes(fstype))
      throw bad('uuid', `A ${fstype} filesystem cannot be given a UUID: FAT has only a 32-bit volume id.`);
    if (existing) await this.tx.query(`DELETE FROM storage_filesystems WHERE id = $1`, [existing.id]);
    await insertFilesystem(this.tx, this.machineId, on, { fstype, uuid: checked, label: label ?? '' });
  }

  async unformat(on: Target): Promise<void> {
    const fs = filesystemOf(this.s, on);
    const what = this.whatOf(on);
    if (!fs) throw bad('__all__', `${what === 'partition' ? 'Partition' : 'Block device'} is not formatted.`);
    if (fs.filesystemGroupId !== null)
      throw bad(
        '__all__',
        `Filesystem is part of ${this.groupName(fs.filesystemGroupId)}, and cannot be unformatted. Remove it from there first.`,
      );
    if (fs.mountPoint)
      throw bad(
        '__all__',
        `Filesystem is mounted and cannot be unformatted. Unmount the filesystem before unformatting the ${what}.`,
      );
    await this.tx.query(`DELETE FROM storage_filesystems WHERE id = $1`, [fs.id]);
  }

  async mount(on: Target, mountPoint: string, mountOptions?: string): Promise<void> {
    const fs = filesystemOf(this.s, on);
    if (!fs || fs.filesystemGroupId !== null) throw bad('__all__', `Cannot mount an unformatted ${this.whatOf(on)}.`);
    if (fs.fstype === 'swap') {
      if (mountPoint !== 'none') throw bad('mount_point', "A swap filesystem's mount point is none.");
    } else if (!/^\/[^\s]*$/.test(mountPoint) || mountPoint.length > 4095) {
      throw bad('mount_point', 'Enter a valid absolute path.');
    }
    if (mountPoint !== 'none' && this.s.filesystems.some((f) => f.id !== fs.id && f.mountPoint === mountPoint))
      throw bad('mount_point', `Another filesystem is already mounted at ${mountPoint}.`);
    if (mountOptions !== undefined && /[\s]/.test(mountOptions))
      throw bad('mount_options', 'Mount options contain no spaces.');
    await this.tx.query(`UPDATE storage_filesystems SET mount_point = $2, mount_options = $3 WHERE id = $1`, [
      fs.id,
      mountPoint,
      mountOptions ?? null,
    ]);
  }

  async unmount(on: Target): Promise<void> {
    const fs = filesystemOf(this.s, on);
    if (!fs)
      throw bad('__all__', `${this.whatOf(on) === 'partition' ? 'Partition' : 'Block device'} is not formatted.`);
    if (!fs.mountPoint) throw bad('__all__', 'Filesystem is already unmounted.');
    await this.tx.query(`UPDATE storage_filesystems SET mount_point = NULL, mount_options = NULL WHERE id = $1`, [
      fs.id,
    ]);
  }

  async setBootDisk(d: StoredBlockDevice): Promise<void> {
    if (d.type !== 'physical') throw bad('__all__', 'Cannot set a virtual block device as the boot disk.');
    await this.tx.query(
      `UPDATE storage_block_devices SET is_boot = (id = $2) WHERE machine_id = $1 AND type = 'physical'`,
      [this.machineId, d.id],
    );
  }

  async tag(d: StoredBlockDevice, tag: string, add: boolean): Promise<void> {
    if (!/^[\w.+:-]{1,64}$/.test(tag)) throw bad('tag', 'A tag is 1 to 64 letters, digits or . + : - _');
    const tags = add ? [...new Set([...d.tags, tag])] : d.tags.filter((t) => t !== tag);
    await this.tx.query(`UPDATE storage_block_devices SET tags = $2 WHERE id = $1`, [d.id, tags]);
  }

  /** Deletes a virtual device: a logical volume, or a RAID (with its group). */
  async deleteVirtual(d: StoredBlockDevice): Promise<void> {
    if (d.type !== 'virtual')
      throw bad('__all__', 'Only virtual block devices (logical volumes, RAIDs) can be deleted.');
    this.assertNotUsed(d);
    const group = this.s.groups.find((g) => g.id === d.filesystemGroupId)!;
    if (group.groupType === 'lvm-vg') await this.tx.query(`DELETE FROM storage_block_devices WHERE id = $1`, [d.id]);
    else await this.deleteGroup(group);
  }
  private assertNotUsed(d: StoredBlockDevice): void {
    const fs = filesystemOf(this.s, { blockDeviceId: d.id });
    if (
      fs?.filesystemGroupId != null ||
      partitionsOf(this.s, d.id).some((p) => filesystemOf(this.s, { partitionId: p.id })?.filesystemGroupId != null)
    )
      throw bad('__all__', `${d.name} is in use by another volume group or RAID; delete that first.`);
  }

  async createPartition(
    d: StoredBlockDevice,
    o: { size?: string; bootable?: boolean; uuid?: string },
  ): Promise<number> {
    const fs = filesystemOf(this.s, { blockDeviceId: d.id });
    if (fs)
      throw bad('__all__', `Cannot create a partition on ${d.name}: it is ${this.fsUse({ blockDeviceId: d.id })}.`);
    const free = tableFreeSpace(this.s, d);
    const size = o.size === undefined ? free : alignDown(Math.max(parseSize('size', o.size, free), MIN_PARTITION_SIZE));
    if (o.size !== undefined && parseSize('size', o.size, free) < MIN_PARTITION_SIZE)
      throw bad('size', `Size is too small. Minimum size is ${MIN_PARTITION_SIZE}.`);
    if (size > free) throw bad('size', `Size is too large. Maximum size is ${free}.`);
    if (size < MIN_PARTITION_SIZE) throw bad('__all__', `${d.name} has no space left for a partition.`);
    const table = await ensurePartitionTable(this.tx, d.id);
    return insertPartition(this.tx, table, { size, bootable: o.bootable ?? false, uuid: checkUuid(o.uuid) });
  }

  async deletePartition(p: StoredPartition): Promise<void> {
    const fs = filesystemOf(this.s, { partitionId: p.id });
    if (fs?.filesystemGroupId != null)
      throw bad('__all__', `Partition is part of ${this.groupName(fs.filesystemGroupId)}; delete that first.`);
    await this.tx.query(`DELETE FROM storage_partitions WHERE id = $1`, [p.id]);
    // MAAS drops the partition table with its last partition.
    await this.tx.query(
      `DELETE FROM storage_partition_tables t WHERE t.id = $1 AND NOT EXISTS (SELECT 1 FROM storage_partitions WHERE partition_table_id = t.id)`,
      [p.partitionTableId],
    );
  }

  private members(o: { blockDevices: number[]; partitions: number[] }, field: string): Target[] {
    const targets: Target[] = [];
    for (const id of o.blockDevices) {
      if (!this.s.devices.some((d) => d.id === id))
        throw bad(field, `Block device ${id} is not one of this machine's.`);
      targets.push({ blockDeviceId: id });
    }
    for (const id of o.partitions) {
      if (!this.s.partitions.some((p) => p.id === id))
        throw bad(field, `Partition ${id} is not one of this machine's.`);
      targets.push({ partitionId: id });
    }
    const keys = targets.map((t) => JSON.stringify(t));
    if (new Set(keys).size !== keys.length) throw bad(field, 'A device or partition is named twice.');
    for (const t of targets) {
      this.assertUnused(t, field);
      if ('blockDeviceId' in t && this.s.devices.find((d) => d.id === t.blockDeviceId)!.isBoot)
        throw bad(field, 'The boot disk cannot be a member; use a partition of it.');
    }
    return targets;
  }

  private assertNewName(name: string): void {
    if (this.s.groups.some((g) => g.name === name) || this.s.devices.some((d) => d.name === name))
      throw bad('name', `A volume group, RAID or block device named ${name} already exists on this machine.`);
  }

  async createVolumeGroup(o: {
    name: string;
    uuid?: string;
    blockDevices: number[];
    partitions: number[];
  }): Promise<number> {
    checkLvmName('name', o.name);
    this.assertNewName(o.name);
    const members = this.members(o, 'block_devices');
    if (members.length === 0) throw bad('__all__', 'At least one valid block device or partition is required.');
    const id = await insertGroup(this.tx, this.machineId, o.name, 'lvm-vg', checkUuid(o.uuid));
    for (const m of members) await insertFilesystem(this.tx, this.machineId, m, { fstype: 'lvm-pv', groupId: id });
    return id;
  }

  async deleteGroup(g: StoredGroup): Promise<void> {
    for (const d of this.s.devices.filter((x) => x.filesystemGroupId === g.id)) this.assertNotUsed(d);
    await this.tx.query(`DELETE FROM storage_filesystem_groups WHERE id = $1`, [g.id]);
  }

  async createLogicalVolume(g: StoredGroup, o: { name: string; size?: string; uuid?: string }): Promise<number> {
    checkLvmName('name', o.name);
    const free = volumeGroupFree(this.s, g);
    const size = o.size === undefined ? free : alignDown(parseSize('size', o.size, free));
    if (size < MIN_PARTITION_SIZE) throw bad('size', `Size is too small. Minimum size is ${MIN_PARTITION_SIZE}.`);
    if (size > free) throw bad('size', `Size is too large. Maximum size is ${free}.`);
    const name = `${g.name}-${o.name}`;
    if (this.s.devices.some((d) => d.name === name))
      throw bad('name', `A logical volume named ${o.name} already exists in ${g.name}.`);
    return insertVirtualDevice(this.tx, this.machineId, g.id, {
      name,
      path: `/dev/disk/by-dname/${name}`,
      size,
      uuid: checkUuid(o.uuid),
    });
  }

  async deleteLogicalVolume(g: StoredGroup, lvId: number): Promise<void> {
    const lv = this.s.devices.find((d) => d.id === lvId && d.filesystemGroupId === g.id);
    // MAAS answers 204 for an id that names no logical volume of the group.
    if (!lv) return;
    this.assertNotUsed(lv);
    await this.tx.query(`DELETE FROM storage_block_devices WHERE id = $1`, [lv.id]);
  }

  async createRaid(o: {
    name?: string;
    level: string;
    uuid?: string;
    blockDevices: number[];
    partitions: number[];
    spareDevices: number[];
    sparePartitions: number[];
  }): Promise<number> {
    const level = RAID_LEVELS.find((l) => l === o.level);
    if (!level) throw bad('level', `Select a valid choice. ${o.level} is not one of the available choices.`);
    const name = o.name || this.nextMdName();
    if (!/^[\w.-]{1,32}$/.test(name)) throw bad('name', `'${name.slice(0, 64)}' is not a valid RAID name.`);
    this.assertNewName(name);
    const all = this.members(
      { blockDevices: [...o.blockDevices, ...o.spareDevices], partitions: [...o.partitions, ...o.sparePartitions] },
      'block_devices',
    );
    const spareCount = o.spareDevices.length + o.sparePartitions.length;
    const active = all
      .slice(0, o.blockDevices.length)
      .concat(
        all.slice(
          o.blockDevices.length + o.spareDevices.length,
          o.blockDevices.length + o.spareDevices.length + o.partitions.length,
        ),
      );
    const spares = all.filter((t) => !active.includes(t));
    const min = RAID_MIN_DEVICES[level];
    if (active.length < min)
      throw bad(
        '__all__',
        `${level.toUpperCase().replace('-', ' ')} must have at least ${min} raid devices and any number of spares.`,
      );
    if (level === 'raid-0' && spareCount > 0) throw bad('__all__', 'RAID level 0 must have no spare devices.');
    const groupId = await insertGroup(this.tx, this.machineId, name, level, checkUuid(o.uuid));
    for (const t of active) await insertFilesystem(this.tx, this.machineId, t, { fstype: 'raid', groupId });
    for (const t of spares) await insertFilesystem(this.tx, this.machineId, t, { fstype: 'raid-spare', groupId });
    const size = raidSize(
      level as RaidLevel,
      active.map((t) => this.sizeOf(t)),
    );
    await insertVirtualDevice(this.tx, this.machineId, groupId, { name, path: `/dev/disk/by-dname/${name}`, size });
    return groupId;
  }
  private sizeOf(t: Target): number {
    if ('partitionId' in t) return this.s.partitions.find((p) => p.id === t.partitionId)!.size;
    return this.s.devices.find((d) => d.id === t.blockDeviceId)!.size;
  }
  private nextMdName(): string {
    for (let i = 0; ; i++)
      if (!this.s.devices.some((d) => d.name === `md${i}`) && !this.s.groups.some((g) => g.name === `md${i}`))
        return `md${i}`;
  }
}
