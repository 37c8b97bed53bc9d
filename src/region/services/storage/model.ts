// A machine's storage as MAAS models it (src/maasserver/models/{blockdevice,partition,
// partitiontable,filesystem,filesystemgroup}.py), loaded whole, and the pure facts derived from
// it: sizes in use, what a device is used for, a group's size. No I/O here.

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** MAAS's EFI_PARTITION_SIZE, MIN_BOOT_PARTITION_SIZE, MIN_ROOT_PARTITION_SIZE (storage_layouts.py). */
export const EFI_PARTITION_SIZE = 512 * MiB;
export const MIN_BOOT_PARTITION_SIZE = 512 * MiB;
export const MIN_ROOT_PARTITION_SIZE = 3 * GiB;
/** MAAS's MIN_BLOCK_DEVICE_SIZE / MIN_PARTITION_SIZE and PARTITION_ALIGNMENT_SIZE. */
export const MIN_PARTITION_SIZE = 4 * MiB;
export const PARTITION_ALIGNMENT = 4 * MiB;
/** MAAS's PARTITION_TABLE_EXTRA_SPACE: what a GPT (and its backup) takes of a device. */
export const PARTITION_TABLE_EXTRA_SPACE = 5 * MiB;
/** One LVM extent per physical volume holds its metadata (MAAS counts the same overhead). */
export const LVM_PE_SIZE = 4 * MiB;

/** MAAS's FILESYSTEM_FORMAT_TYPE_CHOICES that a user may format with. */
export const FORMAT_FSTYPES = ['ext2', 'ext4', 'xfs', 'fat32', 'vfat', 'btrfs', 'swap'] as const;
/**
 * The longest label each filesystem's mkfs takes (mkfs.vfat -n 11, mkfs.xfs -L 12, mkswap -L 15,
 * mke2fs -L 16, btrfs 255): a longer one fails mkfs at deploy, after the disks were wiped.
 */
export const LABEL_MAX: Record<(typeof FORMAT_FSTYPES)[number], number> = {
  ext2: 16,
  ext4: 16,
  xfs: 12,
  fat32: 11,
  vfat: 11,
  btrfs: 255,
  swap: 15,
};
/**
 * Why a label cannot be a filesystem's, or undefined when it can. The characters are those a
 * label keeps on the installer's white-space separated description line and as an mkfs argument.
 */
export function labelProblem(fstype: string, label: string): string | undefined {
  const max = LABEL_MAX[fstype as keyof typeof LABEL_MAX];
  if (max === undefined || label === '') return undefined;
  if (label.length > max || !/^[\w.][\w.-]*$/.test(label))
    return `'${label}' is not a valid ${fstype} label: at most ${max} characters, letters, digits, '_', '.' and '-' (not first).`;
  return undefined;
}
/** Filesystems whose mkfs takes a UUID (mkfs.ext4 -U, mkfs.xfs -m uuid=, mkswap -U): FAT has only a 32-bit volume id. */
export const UUID_FSTYPES: readonly string[] = ['ext2', 'ext4', 'xfs', 'btrfs', 'swap'];
export const RAID_LEVELS = ['raid-0', 'raid-1', 'raid-5', 'raid-6', 'raid-10'] as const;
export type RaidLevel = (typeof RAID_LEVELS)[number];
/** MAAS's minimum member counts per level (forms_raid / filesystemgroup.py). */
export const RAID_MIN_DEVICES: Record<RaidLevel, number> = {
  'raid-0': 2,
  'raid-1': 2,
  'raid-5': 3,
  'raid-6': 4,
  'raid-10': 3,
};

export interface StoredBlockDevice {
  id: number;
  machineId: number;
  type: 'physical' | 'virtual';
  name: string;
  path: string;
  model: string;
  serial: string;
  idPath: string;
  size: number;
  blockSize: number;
  tags: string[];
  isBoot: boolean;
  uuid: string | null;
  /** For a virtual device: the volume group or RAID it comes from. */
  filesystemGroupId: number | null;
}
export interface StoredPartitionTable {
  id: number;
  blockDeviceId: number;
  tableType: string;
}
export interface StoredPartition {
  id: number;
  partitionTableId: number;
  index: number;
  uuid: string;
  size: number;
  bootable: boolean;
  tags: string[];
}
export interface StoredFilesystem {
  id: number;
  blockDeviceId: number | null;
  partitionId: number | null;
  fstype: string;
  label: string;
  uuid: string;
  mountPoint: string | null;
  mountOptions: string | null;
  /** The volume group or RAID this filesystem (lvm-pv, raid, raid-spare) is a member of. */
  filesystemGroupId: number | null;
}
export interface StoredGroup {
  id: number;
  name: string;
  groupType: string;
  uuid: string;
}

export interface MachineStorage {
  systemId: string;
  /** `uefi` when the machine boots UEFI (hardware report), else `pxe`/''. */
  biosBootMethod: string;
  architecture: string;
  devices: StoredBlockDevice[];
  tables: StoredPartitionTable[];
  partitions: StoredPartition[];
  filesystems: StoredFilesystem[];
  groups: StoredGroup[];
}

export const isUefi = (s: Pick<MachineStorage, 'biosBootMethod'>): boolean => s.biosBootMethod === 'uefi';

/** Anything besides the bare physical disks: what clearing the configuration would remove. */
export function hasConfiguration(s: MachineStorage): boolean {
  return (
    s.tables.length > 0 ||
    s.filesystems.length > 0 ||
    s.groups.length > 0 ||
    s.devices.some((d) => d.type !== 'physical')
  );
}

export function tableOf(s: MachineStorage, deviceId: number): StoredPartitionTable | undefined {
  return s.tables.find((t) => t.blockDeviceId === deviceId);
}
export function partitionsOf(s: MachineStorage, deviceId: number): StoredPartition[] {
  const table = tableOf(s, deviceId);
  return table ? s.partitions.filter((p) => p.partitionTableId === table.id).sort((a, b) => a.index - b.index) : [];
}
export function deviceOfPartition(s: MachineStorage, p: StoredPartition): StoredBlockDevice {
  const table = s.tables.find((t) => t.id === p.partitionTableId)!;
  return s.devices.find((d) => d.id === table.blockDeviceId)!;
}
export function filesystemOf(
  s: MachineStorage,
  on: { blockDeviceId: number } | { partitionId: number },
): StoredFilesystem | undefined {
  return 'blockDeviceId' in on
    ? s.filesystems.find((f) => f.blockDeviceId === on.blockDeviceId)
    : s.filesystems.find((f) => f.partitionId === on.partitionId);
}
/** MAAS's partition names: sda1, nvme0n1p1, md0p1. */
export function partitionName(device: Pick<StoredBlockDevice, 'name'>, index: number): string {
  return /\d$/.test(device.name) ? `${device.name}p${index}` : `${device.name}${index}`;
}
export function partitionPath(device: StoredBlockDevice, index: number): string {
  return `/dev/disk/by-dname/${partitionName(device, index)}`;
}

/** What a device's partitions may still take (MAAS's get_available_size of a partition table). */
export function tableFreeSpace(s: MachineStorage, device: StoredBlockDevice): number {
  const used = partitionsOf(s, device.id).reduce((n, p) => n + p.size, 0);
  return Math.max(0, alignDown(device.size - PARTITION_TABLE_EXTRA_SPACE - used));
}

export function usedSize(s: MachineStorage, device: StoredBlockDevice): number {
  if (filesystemOf(s, { blockDeviceId: device.id })) return device.size;
  if (!tableOf(s, device.id)) return 0;
  return device.size - tableFreeSpace(s, device);
}

export function alignDown(size: number): number {
  return Math.floor(size / PARTITION_ALIGNMENT) * PARTITION_ALIGNMENT;
}

/** A member's size: its partition's or its device's. */
export function memberSize(s: MachineStorage, f: StoredFilesystem): number {
  if (f.partitionId !== null) return s.partitions.find((p) => p.id === f.partitionId)!.size;
  return s.devices.find((d) => d.id === f.blockDeviceId)!.size;
}

export function membersOf(s: MachineStorage, groupId: number): StoredFilesystem[] {
  return s.filesystems.filter((f) => f.filesystemGroupId === groupId);
}

/** A volume group's size: its physical volumes less one extent each for LVM's metadata. */
export function volumeGroupSize(s: MachineStorage, g: StoredGroup): number {
  const pvs = membersOf(s, g.id);
  return Math.max(
    0,
    pvs.reduce((n, f) => n + alignDown(memberSize(s, f)) - LVM_PE_SIZE, 0),
  );
}
export function volumeGroupFree(s: MachineStorage, g: StoredGroup): number {
  const lvs = s.devices.filter((d) => d.filesystemGroupId === g.id);
  return Math.max(0, volumeGroupSize(s, g) - lvs.reduce((n, d) => n + d.size, 0));
}

/** MAAS's RAID sizes (FilesystemGroup.get_size): by level, from the smallest active member. */
export function raidSize(level: RaidLevel, memberSizes: number[]): number {
  const n = memberSizes.length;
  if (n === 0) return 0;
  const min = Math.min(...memberSizes);
  switch (level) {
    case 'raid-0':
      return memberSizes.reduce((a, b) => a + b, 0);
    case 'raid-1':
      return min;
    case 'raid-5':
      return min * (n - 1);
    case 'raid-6':
      return min * (n - 2);
    case 'raid-10':
      return Math.floor((min * n) / 2);
  }
}

/** MAAS's used_for text of a block device or partition. */
export function usedFor(s: MachineStorage, on: { blockDeviceId: number } | { partitionId: number }): string {
  const fs = filesystemOf(s, on);
  if (fs) {
    const group = fs.filesystemGroupId === null ? undefined : s.groups.find((g) => g.id === fs.filesystemGroupId);
    if (group && fs.fstype === 'lvm-pv') return `LVM volume for ${group.name}`;
    if (group && fs.fstype === 'raid') return `Active ${group.groupType} device for ${group.name}`;
    if (group && fs.fstype === 'raid-spare') return `Spare ${group.groupType} device for ${group.name}`;
    return fs.mountPoint
      ? `${fs.fstype} formatted filesystem mounted at ${fs.mountPoint}`
      : `Unmounted ${fs.fstype} formatted filesystem`;
  }
  if ('blockDeviceId' in on) {
    const table = tableOf(s, on.blockDeviceId);
    if (table) {
      const n = partitionsOf(s, on.blockDeviceId).length;
      return `${table.tableType} partitioned with ${n} partition${n === 1 ? '' : 's'}`;
    }
  }
  return 'Unused';
}

/** The boot disk: the one marked, else the first physical device (MAAS's get_boot_disk). */
export function bootDisk(s: MachineStorage): StoredBlockDevice | undefined {
  const physical = s.devices.filter((d) => d.type === 'physical').sort((a, b) => a.id - b.id);
  return physical.find((d) => d.isBoot) ?? physical[0];
}
