// MAAS's RackControllersHandler/RackControllerHandler: which racks exist, what they are attached
// to, and how their services (DHCP, TFTP, HTTP boot, worker) are doing; admins may remove one.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { notFound, Reply, type Resource } from '../http';
import { presentRack } from '../presenters/rack';
import { action, may } from './access';

export function rackControllerResources(deps: { services: Pick<RegionServices, 'racks'> }): Array<Resource<Principal>> {
  const { racks } = deps.services;
  return [
    {
      name: 'RackControllersHandler',
      path: '/rackcontrollers/',
      doc: 'Rack controllers: DHCP, TFTP, HTTP boot and power for the machines they reach.',
      actions: [
        action({
          access: may('controller', 'read'),
          method: 'GET',
          doc: 'List rack controllers with their services (service_set).',
          async handle() {
            return (await racks.list()).map((r) => presentRack(r));
          },
        }),
      ],
    },
    {
      name: 'RackControllerHandler',
      path: '/rackcontrollers/{system_id}/',
      doc: 'A rack controller.',
      actions: [
        action({
          access: may('controller', 'read'),
          method: 'GET',
          doc: 'A rack controller by system_id, with its services and interfaces.',
          async handle(c) {
            const rack = (await racks.list()).find((r) => r.systemId === c.path.system_id);
            if (!rack) throw notFound('No RackController matches the given query.');
            return presentRack(rack);
          },
        }),
        action({
          access: may('controller', 'delete'),
          method: 'DELETE',
          doc: 'Remove a rack controller (admin only). Its machine is unlocked, or deleted when it has no BMC (power type manual); machines it served move to another rack (or to none); a VLAN it was primary for gets its secondary as primary. A rack process still running registers again as a new rack.',
          async handle(c) {
            await racks.remove(c.path.system_id!);
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
