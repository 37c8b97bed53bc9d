// The machine operations on its network as a whole: restore_networking_configuration and
// restore_default_configuration (MAAS's MachineHandler), spread into the machine resource.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { Resource } from '../http';
import { action, caller, may, type Ctx } from './access';

export function machineNetworkActions(
  services: Pick<RegionServices, 'machineNetworkRestore'>,
  show: (c: Ctx) => Promise<unknown>,
): Resource<Principal>['actions'] {
  const sid = (c: Ctx) => c.path.system_id!;
  return [
    action({
      method: 'POST',
      op: 'restore_networking_configuration',
      access: may('machine', 'read'),
      doc: 'Restore the network configuration to what commissioning found: bonds, bridges and VLAN interfaces removed, the boot interface AUTO on the subnet it booted from, other connected NICs LINK_UP. Admins; Ready or Failed testing machines.',
      handle: async (c) => (await services.machineNetworkRestore.restore(caller(c), sid(c), 'networking'), show(c)),
    }),
    action({
      method: 'POST',
      op: 'restore_default_configuration',
      access: may('machine', 'read'),
      doc: 'Restore the network configuration and the default storage layout, in one transaction. Admins; Ready or Failed testing machines.',
      handle: async (c) => (await services.machineNetworkRestore.restore(caller(c), sid(c), 'default'), show(c)),
    }),
  ];
}
