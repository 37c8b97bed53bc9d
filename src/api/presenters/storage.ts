// MAAS's JSON shapes of a machine's storage (api/blockdevice.py, partitions.py,
// volume_groups.py, raid.py), from the region's storage model.
import {
  bootDisk,
  deviceOfPartition,
  filesystemOf,
  membersOf,
  memberSize,
  partitionPath,
  partitionsOf,
  raidSize,
  tableOf,
  usedFor,
  usedSize,
  volumeGroupFree,
  volumeGroupSize,
  type MachineStorage,
  type RaidLevel,
  type StoredBlockDevice,
  type StoredFilesystem,
  type StoredGroup,
  type StoredPartition,
} from '../../region/services/storage/model';

const API = '/MAAS/api/2.0';

function presentFilesystem(f: StoredFilesystem | undefined): Record<string, unknown> | null {
  if (!f) return null;
  return { fstype: f.fstype, label: f.label, uuid: f.uuid, mount_point: f.mountPoint, mount_options: f.mountOptions };
}

export function presentPartition(s: MachineStorage, p: StoredPartition): Record<string, unknown> {
  const device = deviceOfPartition(s, p);
  return {
    system_id: s.systemId,
    device_id: device.id,
    id: p.id,
    uuid: p.uuid,
    path: partitionPath(device, p.index),
    type: 'partition',
    size: p.size,
    bootable: p.bootable,
    filesystem: presentFilesystem(filesystemOf(s, { partitionId: p.id })),
    used_for: usedFor(s, { partitionId: p.id }),
    tags: p.tags,
    resource_uri: `${API}/nodes/${s.systemId}/blockdevices/${device.id}/partition/${p.id}`,
  };
}

export function presentStorageDevice(s: MachineStorage, d: StoredBlockDevice): Record<string, unknown> {
  const physical = d.type === 'physical';
  const used = usedSize(s, d);
  return {
    system_id: s.systemId,
    id: d.id,
    name: d.name,
    uuid: physical ? null : d.uuid,
    type: d.type,
    path: d.path,
    model: physical ? d.model : null,
    serial: physical ? d.serial : null,
    id_path: physical ? d.idPath || null : null,
    size: d.size,
    block_size: d.blockSize,
    available_size: d.size - used,
    used_size: used,
    used_for: usedFor(s, { blockDeviceId: d.id }),
    tags: d.tags,
    filesystem: presentFilesystem(filesystemOf(s, { blockDeviceId: d.id })),
    partition_table_type: tableOf(s, d.id)?.tableType ?? null,
    partitions: partitionsOf(s, d.id).map((p) => presentPartition(s, p)),
    firmware_version: null,
    storage_pool: null,
    numa_node: physical ? 0 : null,
    resource_uri: `${API}/nodes/${s.systemId}/blockdevices/${d.id}/`,
  };
}

/** A group member (a PV, a RAID member): its device's or its partition's JSON. */
function presentMember(s: MachineStorage, f: StoredFilesystem): Record<string, unknown> {
  if (f.partitionId !== null)
    return presentPartition(
      s,
      s.partitions.find((p) => p.id === f.partitionId)!,
    );
  return presentStorageDevice(
    s,
    s.devices.find((d) => d.id === f.blockDeviceId)!,
  );
}

/** MAAS's human_readable_bytes: one decimal, SI units. */
export function humanBytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

export function presentVolumeGroup(s: MachineStorage, g: StoredGroup): Record<string, unknown> {
  const size = volumeGroupSize(s, g);
  const free = volumeGroupFree(s, g);
  return {
    system_id: s.systemId,
    id: g.id,
    uuid: g.uuid,
    name: g.name,
    devices: membersOf(s, g.id).map((f) => presentMember(s, f)),
    size,
    human_size: humanBytes(size),
    available_size: free,
    human_available_size: humanBytes(free),
    used_size: size - free,
    human_used_size: humanBytes(size - free),
    logical_volumes: s.devices.filter((d) => d.filesystemGroupId === g.id).map((d) => presentStorageDevice(s, d)),
    resource_uri: `${API}/nodes/${s.systemId}/volume-group/${g.id}/`,
  };
}

export function presentRaid(s: MachineStorage, g: StoredGroup): Record<string, unknown> {
  const members = membersOf(s, g.id);
  const active = members.filter((f) => f.fstype === 'raid');
  const size = raidSize(
    g.groupType as RaidLevel,
    active.map((f) => memberSize(s, f)),
  );
  const virtual = s.devices.find((d) => d.filesystemGroupId === g.id);
  return {
    system_id: s.systemId,
    id: g.id,
    uuid: g.uuid,
    name: g.name,
    level: g.groupType,
    devices: active.map((f) => presentMember(s, f)),
    spare_devices: members.filter((f) => f.fstype === 'raid-spare').map((f) => presentMember(s, f)),
    size,
    human_size: humanBytes(size),
    virtual_device: virtual ? presentStorageDevice(s, virtual) : null,
    resource_uri: `${API}/nodes/${s.systemId}/raid/${g.id}/`,
  };
}

/** The machine JSON's storage fields. */
export function presentMachineStorage(s: MachineStorage): Record<string, unknown> {
  const all = s.devices.map((d) => presentStorageDevice(s, d));
  const boot = bootDisk(s);
  const physical = s.devices.filter((d) => d.type === 'physical');
  return {
    blockdevice_set: all,
    physicalblockdevice_set: all.filter((d) => d.type === 'physical'),
    virtualblockdevice_set: all.filter((d) => d.type === 'virtual'),
    boot_disk: boot ? all.find((d) => d.id === boot.id)! : null,
    volume_groups: s.groups.filter((g) => g.groupType === 'lvm-vg').map((g) => presentVolumeGroup(s, g)),
    raids: s.groups.filter((g) => g.groupType.startsWith('raid-')).map((g) => presentRaid(s, g)),
    // MAAS's storage: the physical disks' total, in MB.
    storage: physical.reduce((n, d) => n + d.size, 0) / 1_000_000,
  };
}
