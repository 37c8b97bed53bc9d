// MAAS's SpacesHandler and SpaceHandler. Everyone reads spaces; admins create, edit and delete
// them. A VLAN joins a space through the VLAN handlers' `space=`.
import type { RegionServices } from '../../region/services';
import { UNDEFINED_SPACE, UNDEFINED_SPACE_ID } from '../../region/services/network/spaces';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, Reply, type Resource } from '../http';
import { presentSpace } from '../presenters/network';
import { action, may } from './access';

const spaceForm = form({
  name: field.text('The name of the space (default space-<id>).'),
  description: field.text('A description of the space.', { maxLength: 10_000 }),
});

/** `-1` or `undefined`: MAAS's placeholder for VLANs in no space. */
const isUndefined = (key: string | undefined) => key === String(UNDEFINED_SPACE_ID) || key === UNDEFINED_SPACE;

export function spaceResources(deps: {
  services: Pick<RegionServices, 'spaces' | 'fabrics' | 'subnets'>;
}): Array<Resource<Principal>> {
  const { spaces, fabrics, subnets } = deps.services;
  /** Every VLAN and subnet once per request, each space's own picked from them. */
  const network = async () => ({ vlans: await fabrics.vlans(), subnets: await subnets.list() });
  return [
    {
      name: 'SpacesHandler',
      path: '/spaces/',
      doc: 'Manage spaces.',
      actions: [
        action({
          method: 'GET',
          access: may('network', 'read'),
          doc: 'List all spaces; "undefined" (id -1) last, holding the VLANs in no space, when there are any (as MAAS, for Juju).',
          async handle() {
            const { vlans, subnets: all } = await network();
            const listed = (await spaces.list()).map((s) => presentSpace(s, vlans, all));
            if (vlans.some((v) => v.spaceId === null)) listed.push(presentSpace(null, vlans, all));
            return listed;
          },
        }),
        action({
          method: 'POST',
          access: may('network', 'create'),
          form: spaceForm,
          doc: 'Create a space (admin only).',
          async handle(c) {
            const { vlans, subnets: all } = await network();
            return presentSpace(await spaces.create(c.form), vlans, all);
          },
        }),
      ],
    },
    {
      name: 'SpaceHandler',
      path: '/spaces/{id}/',
      doc: 'Manage a space, by id or name.',
      actions: [
        action({
          method: 'GET',
          access: may('network', 'read'),
          doc: 'A space by id or name; -1 or "undefined" is the VLANs in no space.',
          async handle(c) {
            const { vlans, subnets: all } = await network();
            if (isUndefined(c.path.id) && (await spaces.hasUndefined())) return presentSpace(null, vlans, all);
            return presentSpace(await spaces.get(c.path.id!), vlans, all);
          },
        }),
        action({
          method: 'PUT',
          access: may('network', 'update'),
          form: spaceForm,
          doc: 'Update a space (admin only). The undefined space cannot be modified.',
          async handle(c) {
            if (isUndefined(c.path.id)) throw badRequest(`Space cannot be modified: ${UNDEFINED_SPACE}`);
            const updated = await spaces.update(c.path.id!, c.form);
            const { vlans, subnets: all } = await network();
            return presentSpace(updated, vlans, all);
          },
        }),
        action({
          method: 'DELETE',
          access: may('network', 'delete'),
          doc: 'Delete a space (admin only); its VLANs go back to the undefined space.',
          async handle(c) {
            if (isUndefined(c.path.id)) throw badRequest(`Space cannot be deleted: ${UNDEFINED_SPACE}`);
            await spaces.delete(c.path.id!);
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
