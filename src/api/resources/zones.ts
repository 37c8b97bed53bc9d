// MAAS's ZonesHandler and ZoneHandler. Everyone reads zones; admins create, edit and delete them.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { Params } from '../http';
import { Reply, type Resource } from '../http';
import { presentZone } from '../presenters/zone';
import { adminOf, userOf } from './access';

const form = (p: Params) => ({ name: p.string('name'), description: p.string('description', { maxLength: 10_000 }) });

export function zoneResources(deps: { services: Pick<RegionServices, 'zones'> }): Array<Resource<Principal>> {
  const { zones } = deps.services;
  return [
    {
      name: 'ZonesHandler',
      path: '/zones/',
      doc: 'Manage physical zones.',
      actions: [
        {
          method: 'GET',
          doc: 'List zones, ordered by name. There is always at least one: default.',
          async handle(c) {
            userOf(c);
            return (await zones.list()).map(presentZone);
          },
        },
        {
          method: 'POST',
          doc: 'Create a zone (admin only): name, description.',
          async handle(c) {
            adminOf(c);
            return presentZone(await zones.create(form(c.params)));
          },
        },
      ],
    },
    {
      name: 'ZoneHandler',
      path: '/zones/{name}/',
      doc: 'Manage a physical zone. Only administrators can modify zones; other users can view them.',
      actions: [
        {
          method: 'GET',
          doc: 'A zone by name.',
          async handle(c) {
            userOf(c);
            return presentZone(await zones.get(c.path.name!));
          },
        },
        {
          method: 'PUT',
          doc: "Update a zone's name or description (admin only). The default zone cannot be renamed.",
          async handle(c) {
            adminOf(c);
            return presentZone(await zones.update(c.path.name!, form(c.params)));
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a zone (admin only); its machines move to the default zone, which cannot be deleted.',
          async handle(c) {
            adminOf(c);
            await zones.delete(c.path.name!);
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
