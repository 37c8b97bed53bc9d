// The forms of the storage handlers (block devices, partitions, volume groups, RAIDs, layouts),
// with MAAS's parameter names.
import { badRequest, field, form } from '../http';

const MAX_MEMBERS = 256;

/** Repeated ids (`block_devices=3&block_devices=4`): each one an integer, or a 400 naming the field. */
function ids(doc: string) {
  return field.list(doc, { maxValues: MAX_MEMBERS });
}
export function toIds(name: string, values: string[]): number[] {
  return values.map((v) => {
    if (!/^\d{1,9}$/.test(v.trim())) throw badRequest({ [name]: [`'${v.slice(0, 32)}' is not a valid id.`] });
    return Number(v);
  });
}

const size = (doc: string) =>
  field.text(`${doc} Bytes, with a K/M/G/T suffix (powers of 1000), or a percentage.`, { maxLength: 32 });
const uuid = (what: string) => field.text(`UUID of the ${what}.`, { maxLength: 36 });

export const formatForm = form(
  {
    fstype: field.text('Type of filesystem: ext2, ext4, xfs, fat32, vfat, btrfs or swap.', {
      required: true,
      maxLength: 16,
    }),
    uuid: uuid('filesystem'),
    label: field.text('Label of the filesystem.', { maxLength: 16 }),
  },
  (v) => v,
);

export const mountForm = form(
  {
    mount_point: field.text('Path on the filesystem to mount (none for swap).', { required: true, maxLength: 4095 }),
    mount_options: field.text('Options for the mount, as in fstab (no spaces).', { maxLength: 255 }),
  },
  (v) => v,
);

export const tagForm = form({ tag: field.text('The tag.', { required: true, maxLength: 64 }) }, (v) => v.tag);

export const createPartitionForm = form(
  {
    size: size('The size of the partition (default: the rest of the device).'),
    uuid: uuid('partition'),
    bootable: field.bool('Whether the partition is bootable.'),
  },
  (v) => ({ size: v.size, uuid: v.uuid, bootable: v.bootable }),
);

export const createVolumeGroupForm = form(
  {
    name: field.text('Name of the volume group.', { required: true, maxLength: 127 }),
    uuid: uuid('volume group'),
    block_devices: ids('Block devices to add to the volume group.'),
    partitions: ids('Partitions to add to the volume group.'),
  },
  (v) => ({
    name: v.name,
    uuid: v.uuid,
    blockDevices: toIds('block_devices', v.block_devices),
    partitions: toIds('partitions', v.partitions),
  }),
);

export const createLogicalVolumeForm = form(
  {
    name: field.text('Name of the logical volume.', { required: true, maxLength: 127 }),
    uuid: uuid('logical volume'),
    size: size('Size of the logical volume (default: what the volume group has left).'),
  },
  (v) => v,
);

export const deleteLogicalVolumeForm = form({ id: field.int('ID of the logical volume.', { min: 0 }) }, (v) => {
  if (v.id === undefined) throw badRequest({ id: ['This field is required.'] });
  return v.id;
});

export const createRaidForm = form(
  {
    name: field.text('Name of the RAID (default: the next free mdN).', { maxLength: 32 }),
    uuid: uuid('RAID'),
    level: field.text('RAID level: raid-0, raid-1, raid-5, raid-6 or raid-10.', { required: true, maxLength: 16 }),
    block_devices: ids('Block devices to add to the RAID.'),
    partitions: ids('Partitions to add to the RAID.'),
    spare_devices: ids('Spare block devices to add to the RAID.'),
    spare_partitions: ids('Spare partitions to add to the RAID.'),
  },
  (v) => ({
    name: v.name,
    uuid: v.uuid,
    level: v.level,
    blockDevices: toIds('block_devices', v.block_devices),
    partitions: toIds('partitions', v.partitions),
    spareDevices: toIds('spare_devices', v.spare_devices),
    sparePartitions: toIds('spare_partitions', v.spare_partitions),
  }),
);

export const storageLayoutForm = form(
  {
    storage_layout: field.text(
      'Storage layout for the machine: flat, lvm or blank (bcache, vmfs6, vmfs7 and custom are refused).',
      {
        required: true,
        maxLength: 16,
      },
    ),
    boot_size: size('Size of the boot partition (default 0: none).'),
    root_size: size('Size of the root partition (default: the rest of the root device).'),
    root_device: field.int('Physical block device to place the root partition on (default: the boot disk).', {
      min: 0,
    }),
    vg_name: field.text('lvm: name of the volume group (default vgroot).', { maxLength: 127 }),
    lv_name: field.text('lvm: name of the logical volume (default lvroot).', { maxLength: 127 }),
    lv_size: size('lvm: size of the logical volume (default: the whole volume group).'),
    cache_device: field.unsupported('bcache layouts are not supported'),
    cache_mode: field.unsupported('bcache layouts are not supported'),
    cache_size: field.unsupported('bcache layouts are not supported'),
    cache_no_part: field.unsupported('bcache layouts are not supported', 'Boolean'),
  },
  (v) => ({
    layout: v.storage_layout,
    params: {
      bootSize: v.boot_size,
      rootSize: v.root_size,
      rootDevice: v.root_device,
      vgName: v.vg_name,
      lvName: v.lv_name,
      lvSize: v.lv_size,
    },
  }),
);
