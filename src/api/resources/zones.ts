// MAAS's ZonesHandler and ZoneHandler. Everyone reads zones; admins create, edit and delete them.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { presentZone } from '../presenters/zone';
import { action, may } from './access';

const zoneForm = form({
  name: field.text('The name of the zone.'),
  description: field.text('A description of the zone.', { maxLength: 10_000 }),
});

export function zoneResources(deps: { services: Pick<RegionServices, 'zones'> }): Array<Resource<Principal>> {
  const { zones } = deps.services;
  return [
    {
      name: 'ZonesHandler',
      path: '/zones/',
      doc: 'Manage physical zones.',
      actions: [
        action({
          method: 'GET',
          access: may('zone', 'read'),
          doc: 'List zones, ordered by name. There is always at least one: default.',
          handle: async () => (await zones.list()).map(presentZone),
        }),
        action({
          method: 'POST',
          access: may('zone', 'create'),
          form: zoneForm,
          doc: 'Create a zone (admin only).',
          handle: async (c) => presentZone(await zones.create(c.form)),
        }),
      ],
    },
    {
      name: 'ZoneHandler',
      path: '/zones/{name}/',
      doc: 'Manage a physical zone. Only administrators can modify zones; other users can view them.',
      actions: [
        action({
          method: 'GET',
          access: may('zone', 'read'),
          doc: 'A zone by name.',
          handle: async (c) => presentZone(await zones.get(c.path.name!)),
        }),
        action({
          method: 'PUT',
          access: may('zone', 'update'),
          form: zoneForm,
          doc: "Update a zone's name or description (admin only). The default zone cannot be renamed.",
          handle: async (c) => presentZone(await zones.update(c.path.name!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('zone', 'delete'),
          doc: 'Delete a zone (admin only); its machines move to the default zone, which cannot be deleted.',
          handle: async (c) => (await zones.delete(c.path.name!), Reply.noContent()),
        }),
      ],
    },
  ];
}
