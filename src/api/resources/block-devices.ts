// MAAS's BlockDevicesHandler / BlockDeviceHandler and PartitionsHandler / PartitionHandler under
// nodes/{system_id}/blockdevices/: one storage-service call each, presented in MAAS's shapes.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { MachineStorage } from '../../region/services/storage/model';
import { NotFoundError } from '../../region/errors';
import { pathId, Reply, type Resource } from '../http';
import { presentPartition, presentStorageDevice } from '../presenters/storage';
import { action, caller, may, type Ctx } from './access';
import { createPartitionForm, formatForm, mountForm, tagForm } from './storage-forms';

const idOf = (c: Ctx, key: string, what: string): number => {
  const id = pathId(c.path[key]);
  if (id === undefined) throw new NotFoundError(`No ${what} matches the given query.`);
  return id;
};

export function blockDeviceResources(deps: { services: Pick<RegionServices, 'storage'> }): Array<Resource<Principal>> {
  const { storage } = deps.services;
  const sid = (c: Ctx) => c.path.system_id!;
  const deviceId = (c: Ctx) => idOf(c, 'device_id', 'BlockDevice');
  const bdId = (c: Ctx) => idOf(c, 'id', 'BlockDevice');
  const partId = (c: Ctx) => idOf(c, 'id', 'Partition');
  const read = may('machine', 'read');
  const device = (s: MachineStorage, id: number) => presentStorageDevice(s, storage.blockDevice(s, id));
  const partition = (s: MachineStorage, dev: number, id: number) => presentPartition(s, storage.partition(s, dev, id));

  /** An edit of the device in the path, answered with the device as it is afterwards. */
  const onDevice =
    (operation: string, kind: 'allocated' | 'ready', work: Parameters<typeof storage.edit>[4]) => async (c: Ctx) => {
      const id = bdId(c);
      const { storage: s } = await storage.edit(
        caller(c),
        sid(c),
        kind,
        { operation, object: 'block device' },
        async (e, s0, tx) => {
          storage.blockDevice(s0, id);
          return work(e, s0, tx);
        },
      );
      return device(s, id);
    };
  const onPartition =
    (operation: string, work: (e: Parameters<Parameters<typeof storage.edit>[4]>[0], id: number) => Promise<unknown>) =>
    async (c: Ctx) => {
      const dev = deviceId(c);
      const id = partId(c);
      const { storage: s } = await storage.edit(
        caller(c),
        sid(c),
        'allocated',
        { operation, object: 'partition' },
        async (e, s0) => {
          storage.partition(s0, dev, id);
          return work(e, id);
        },
      );
      return partition(s, dev, id);
    };

  return [
    {
      name: 'BlockDevicesHandler',
      path: '/nodes/{system_id}/blockdevices/',
      doc: 'Manage block devices on a machine.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'List all block devices belonging to a machine.',
          async handle(c) {
            const s = await storage.read(caller(c), sid(c));
            return s.devices.map((d) => presentStorageDevice(s, d));
          },
        }),
      ],
    },
    {
      name: 'BlockDeviceHandler',
      path: '/nodes/{system_id}/blockdevices/{id}/',
      doc: 'Manage a block device on a machine.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'Read a block device on a given machine.',
          handle: async (c) => device(await storage.read(caller(c), sid(c)), bdId(c)),
        }),
        action({
          method: 'DELETE',
          access: read,
          doc: 'Delete a virtual block device (a logical volume or a RAID); physical ones stay. Admins, Ready machines.',
          async handle(c) {
            const id = bdId(c);
            await storage.edit(caller(c), sid(c), 'ready', { operation: 'delete', object: 'block device' }, (e, s) =>
              e.deleteVirtual(storage.blockDevice(s, id)),
            );
            return Reply.noContent();
          },
        }),
        action({
          method: 'POST',
          op: 'format',
          access: read,
          form: formatForm,
          doc: 'Format block device with filesystem.',
          handle: (c) =>
            onDevice('format', 'allocated', (e) =>
              e.format({ blockDeviceId: bdId(c) }, c.form.fstype, c.form.uuid, c.form.label),
            )(c),
        }),
        action({
          method: 'POST',
          op: 'unformat',
          access: read,
          doc: 'Unformat a block device: remove its filesystem.',
          handle: (c) => onDevice('unformat', 'allocated', (e) => e.unformat({ blockDeviceId: bdId(c) }))(c),
        }),
        action({
          method: 'POST',
          op: 'mount',
          access: read,
          form: mountForm,
          doc: 'Mount the filesystem on a block device.',
          handle: (c) =>
            onDevice('mount', 'allocated', (e) =>
              e.mount({ blockDeviceId: bdId(c) }, c.form.mount_point, c.form.mount_options),
            )(c),
        }),
        action({
          method: 'POST',
          op: 'unmount',
          access: read,
          doc: 'Unmount the filesystem on a block device.',
          handle: (c) => onDevice('unmount', 'allocated', (e) => e.unmount({ blockDeviceId: bdId(c) }))(c),
        }),
        action({
          method: 'POST',
          op: 'set_boot_disk',
          access: read,
          doc: 'Set a physical block device as the boot disk. Admins, Ready machines.',
          async handle(c) {
            const id = bdId(c);
            await storage.edit(
              caller(c),
              sid(c),
              'ready',
              {
                operation: 'set boot disk',
                object: 'block device',
                notReady: 'Cannot set as boot disk because the machine is not Ready.',
              },
              (e, s) => e.setBootDisk(storage.blockDevice(s, id)),
            );
            return Reply.text('OK');
          },
        }),
        action({
          method: 'POST',
          op: 'add_tag',
          access: read,
          form: tagForm,
          doc: 'Add a tag to a block device. Admins, Ready machines.',
          handle: (c) => onDevice('update', 'ready', (e, s) => e.tag(storage.blockDevice(s, bdId(c)), c.form, true))(c),
        }),
        action({
          method: 'POST',
          op: 'remove_tag',
          access: read,
          form: tagForm,
          doc: 'Remove a tag from a block device. Admins, Ready machines.',
          handle: (c) =>
            onDevice('update', 'ready', (e, s) => e.tag(storage.blockDevice(s, bdId(c)), c.form, false))(c),
        }),
      ],
    },
    {
      name: 'PartitionsHandler',
      path: '/nodes/{system_id}/blockdevices/{device_id}/partitions/',
      doc: 'Manage partitions on a block device.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'List partitions on a device.',
          async handle(c) {
            const s = await storage.read(caller(c), sid(c));
            const d = storage.blockDevice(s, deviceId(c));
            const table = s.tables.find((t) => t.blockDeviceId === d.id);
            return s.partitions
              .filter((p) => p.partitionTableId === table?.id)
              .sort((a, b) => a.index - b.index)
              .map((p) => presentPartition(s, p));
          },
        }),
        action({
          method: 'POST',
          access: read,
          form: createPartitionForm,
          doc: 'Create a partition on a block device.',
          async handle(c) {
            const dev = deviceId(c);
            const { result, storage: s } = await storage.edit(
              caller(c),
              sid(c),
              'allocated',
              { operation: 'create', object: 'partition' },
              (e, s0) => e.createPartition(storage.blockDevice(s0, dev), c.form),
            );
            return partition(s, dev, result);
          },
        }),
      ],
    },
    {
      name: 'PartitionHandler',
      path: '/nodes/{system_id}/blockdevices/{device_id}/partition/{id}',
      doc: 'Manage a partition on a block device.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'Read a partition.',
          handle: async (c) => partition(await storage.read(caller(c), sid(c)), deviceId(c), partId(c)),
        }),
        action({
          method: 'DELETE',
          access: read,
          doc: 'Delete a partition.',
          async handle(c) {
            const dev = deviceId(c);
            const id = partId(c);
            await storage.edit(caller(c), sid(c), 'allocated', { operation: 'delete', object: 'partition' }, (e, s) =>
              e.deletePartition(storage.partition(s, dev, id)),
            );
            return Reply.noContent();
          },
        }),
        action({
          method: 'POST',
          op: 'format',
          access: read,
          form: formatForm,
          doc: 'Format a partition.',
          handle: (c) =>
            onPartition('format', (e, id) => e.format({ partitionId: id }, c.form.fstype, c.form.uuid, c.form.label))(
              c,
            ),
        }),
        action({
          method: 'POST',
          op: 'unformat',
          access: read,
          doc: 'Unformat a partition.',
          handle: (c) => onPartition('unformat', (e, id) => e.unformat({ partitionId: id }))(c),
        }),
        action({
          method: 'POST',
          op: 'mount',
          access: read,
          form: mountForm,
          doc: 'Mount a filesystem on a partition.',
          handle: (c) =>
            onPartition('mount', (e, id) => e.mount({ partitionId: id }, c.form.mount_point, c.form.mount_options))(c),
        }),
        action({
          method: 'POST',
          op: 'unmount',
          access: read,
          doc: 'Unmount a filesystem on a partition.',
          handle: (c) => onPartition('unmount', (e, id) => e.unmount({ partitionId: id }))(c),
        }),
      ],
    },
  ];
}
