// MAAS's VolumeGroupsHandler / VolumeGroupHandler (nodes/{system_id}/volume-groups/, and
// volume-group/{id}/ as MAAS's resource_uri names one) and RaidsHandler / RaidHandler
// (raids/, raid/{id}/): admins, on Ready machines, as in MAAS.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { MachineStorage } from '../../region/services/storage/model';
import { NotFoundError } from '../../region/errors';
import { pathId, Reply, type Resource } from '../http';
import { presentRaid, presentStorageDevice, presentVolumeGroup } from '../presenters/storage';
import { action, caller, may, type Ctx } from './access';
import {
  createLogicalVolumeForm,
  createRaidForm,
  createVolumeGroupForm,
  deleteLogicalVolumeForm,
} from './storage-forms';

export function volumeGroupResources(deps: { services: Pick<RegionServices, 'storage'> }): Array<Resource<Principal>> {
  const { storage } = deps.services;
  const sid = (c: Ctx) => c.path.system_id!;
  const read = may('machine', 'read');
  const idOf = (c: Ctx, what: string) => {
    const id = pathId(c.path.id);
    if (id === undefined) throw new NotFoundError(`No ${what} matches the given query.`);
    return id;
  };
  const vg = (s: MachineStorage, id: number) => presentVolumeGroup(s, storage.group(s, id, 'lvm-vg'));
  const raid = (s: MachineStorage, id: number) => presentRaid(s, storage.group(s, id, 'raid'));
  const vgEdit = (operation: string) => ({ operation, object: 'volume group' });

  return [
    {
      name: 'VolumeGroupsHandler',
      path: '/nodes/{system_id}/volume-groups/',
      doc: 'Manage volume groups on a machine.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'List all volume groups belonging to a machine.',
          async handle(c) {
            const s = await storage.read(caller(c), sid(c));
            return s.groups.filter((g) => g.groupType === 'lvm-vg').map((g) => presentVolumeGroup(s, g));
          },
        }),
        action({
          method: 'POST',
          access: read,
          form: createVolumeGroupForm,
          doc: 'Create a volume group from block devices and partitions that nothing else uses.',
          async handle(c) {
            const { result, storage: s } = await storage.edit(caller(c), sid(c), 'ready', vgEdit('create'), (e) =>
              e.createVolumeGroup(c.form),
            );
            return vg(s, result);
          },
        }),
      ],
    },
    {
      name: 'VolumeGroupHandler',
      path: '/nodes/{system_id}/volume-group/{id}/',
      doc: 'Manage volume group on a machine.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'Read a volume group.',
          handle: async (c) => vg(await storage.read(caller(c), sid(c)), idOf(c, 'VolumeGroup')),
        }),
        action({
          method: 'DELETE',
          access: read,
          doc: 'Delete a volume group with its logical volumes.',
          async handle(c) {
            const id = idOf(c, 'VolumeGroup');
            await storage.edit(caller(c), sid(c), 'ready', vgEdit('delete'), (e, s) =>
              e.deleteGroup(storage.group(s, id, 'lvm-vg')),
            );
            return Reply.noContent();
          },
        }),
        action({
          method: 'POST',
          op: 'create_logical_volume',
          access: read,
          form: createLogicalVolumeForm,
          doc: 'Create a logical volume in a volume group.',
          async handle(c) {
            const id = idOf(c, 'VolumeGroup');
            const { result, storage: s } = await storage.edit(
              caller(c),
              sid(c),
              'ready',
              {
                operation: 'create',
                object: 'logical volume',
                notReady: 'Cannot create logical volume because the machine is not Ready.',
              },
              (e, s0) => e.createLogicalVolume(storage.group(s0, id, 'lvm-vg'), c.form),
            );
            return presentStorageDevice(s, storage.blockDevice(s, result));
          },
        }),
        action({
          method: 'POST',
          op: 'delete_logical_volume',
          access: read,
          form: deleteLogicalVolumeForm,
          doc: 'Delete a logical volume from a volume group (204 even when the id names none, as in MAAS).',
          async handle(c) {
            const id = idOf(c, 'VolumeGroup');
            await storage.edit(
              caller(c),
              sid(c),
              'ready',
              {
                operation: 'delete',
                object: 'logical volume',
                notReady: 'Cannot delete logical volume because the machine is not Ready.',
              },
              (e, s0) => e.deleteLogicalVolume(storage.group(s0, id, 'lvm-vg'), c.form),
            );
            return Reply.noContent();
          },
        }),
      ],
    },
    {
      name: 'RaidsHandler',
      path: '/nodes/{system_id}/raids/',
      doc: 'Manage all RAIDs (Redundant Array of Independent Disks) on a machine.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'List all RAIDs belonging to a machine.',
          async handle(c) {
            const s = await storage.read(caller(c), sid(c));
            return s.groups.filter((g) => g.groupType.startsWith('raid-')).map((g) => presentRaid(s, g));
          },
        }),
        action({
          method: 'POST',
          access: read,
          form: createRaidForm,
          doc: 'Create an md RAID (raid-0, raid-1, raid-5, raid-6, raid-10) from block devices and partitions, with spares.',
          async handle(c) {
            const { result, storage: s } = await storage.edit(
              caller(c),
              sid(c),
              'ready',
              { operation: 'create', object: 'RAID' },
              (e) => e.createRaid(c.form),
            );
            return raid(s, result);
          },
        }),
      ],
    },
    {
      name: 'RaidHandler',
      path: '/nodes/{system_id}/raid/{id}/',
      doc: 'Manage a specific RAID (Redundant Array of Independent Disks) on a machine.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'Read a RAID.',
          handle: async (c) => raid(await storage.read(caller(c), sid(c)), idOf(c, 'RAID')),
        }),
        action({
          method: 'DELETE',
          access: read,
          doc: 'Delete a RAID.',
          async handle(c) {
            const id = idOf(c, 'RAID');
            await storage.edit(caller(c), sid(c), 'ready', { operation: 'delete', object: 'RAID' }, (e, s) =>
              e.deleteGroup(storage.group(s, id, 'raid')),
            );
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
