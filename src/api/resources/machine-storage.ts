// The machine operations on its storage as a whole: set_storage_layout and
// restore_storage_configuration (MAAS's MachineHandler), spread into the machine resource.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { Resource } from '../http';
import { action, caller, may, type Ctx } from './access';
import { storageLayoutForm } from './storage-forms';

export function machineStorageActions(
  services: Pick<RegionServices, 'storage'>,
  show: (c: Ctx) => Promise<unknown>,
): Resource<Principal>['actions'] {
  const sid = (c: Ctx) => c.path.system_id!;
  return [
    action({
      method: 'POST',
      op: 'set_storage_layout',
      access: may('machine', 'read'),
      form: storageLayoutForm,
      doc: "Change the storage layout: flat, lvm or blank, with MAAS's boot_size, root_size, root_device, vg_name, lv_name, lv_size. Admins, Ready machines; the whole configuration is replaced.",
      handle: async (c) => (await services.storage.setLayout(caller(c), sid(c), c.form.layout, c.form.params), show(c)),
    }),
    action({
      method: 'POST',
      op: 'restore_storage_configuration',
      access: may('machine', 'read'),
      doc: 'Restore the storage configuration to the default layout (the default_storage_layout setting), as after commissioning.',
      handle: async (c) => (await services.storage.restore(caller(c), sid(c)), show(c)),
    }),
  ];
}
