// MAAS's RegionControllersHandler/RegionControllerHandler: the regions (each registers its host as
// a locked DEPLOYED machine when it starts); admins may remove one, which unlocks its machine or
// deletes it when it has no BMC, as removing a rack does.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { notFound, Reply, type Resource } from '../http';
import { presentRegion } from '../presenters/rack';
import { action, may } from './access';

export function regionControllerResources(deps: {
  services: Pick<RegionServices, 'controllers'>;
}): Array<Resource<Principal>> {
  const { controllers } = deps.services;
  const one = async (systemId: string) => {
    const region = (await controllers.listRegions()).find((r) => r.systemId === systemId);
    if (!region) throw notFound('No RegionController matches the given query.');
    return region;
  };
  return [
    {
      name: 'RegionControllersHandler',
      path: '/regioncontrollers/',
      doc: 'Region controllers: the API, metadata server and workflows.',
      actions: [
        action({
          access: may('controller', 'read'),
          method: 'GET',
          doc: 'List region controllers.',
          async handle() {
            return (await controllers.listRegions()).map(presentRegion);
          },
        }),
      ],
    },
    {
      name: 'RegionControllerHandler',
      path: '/regioncontrollers/{system_id}/',
      doc: 'A region controller.',
      actions: [
        action({
          access: may('controller', 'read'),
          method: 'GET',
          doc: 'A region controller by system_id.',
          async handle(c) {
            return presentRegion(await one(c.path.system_id!));
          },
        }),
        action({
          access: may('controller', 'delete'),
          method: 'DELETE',
          doc: 'Remove a region controller (admin only): its machine is unlocked, or deleted when it has no BMC (power type manual); kept as a rack when it is one. A region process still running registers itself again when it next starts.',
          async handle(c) {
            await controllers.removeRegion(c.path.system_id!);
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
