// MAAS's ResourcePoolsHandler (/resourcepools/) and ResourcePoolHandler (/resourcepool/{id}/,
// singular, with the pool's id or name). Everyone reads pools; admins create, edit and delete them.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { Params } from '../http';
import { Reply, type Resource } from '../http';
import { presentPool } from '../presenters/pool';
import { adminOf, userOf } from './access';

const form = (p: Params) => ({
  name: p.string('name'),
  description: p.string('description', { maxLength: 10_000 }),
  restricted: p.bool('restricted'),
});

export function poolResources(deps: { services: Pick<RegionServices, 'pools'> }): Array<Resource<Principal>> {
  const { pools } = deps.services;
  return [
    {
      name: 'ResourcePoolsHandler',
      path: '/resourcepools/',
      doc: 'Manage resource pools.',
      actions: [
        {
          method: 'GET',
          doc: 'List resource pools, ordered by name. There is always at least one: default.',
          async handle(c) {
            userOf(c);
            return (await pools.list()).map(presentPool);
          },
        },
        {
          method: 'POST',
          doc: 'Create a resource pool (admin only): name, description.',
          async handle(c) {
            adminOf(c);
            return presentPool(await pools.create(form(c.params)));
          },
        },
      ],
    },
    {
      name: 'ResourcePoolHandler',
      path: '/resourcepool/{id}/',
      doc: 'Manage a resource pool, by id or name.',
      actions: [
        {
          method: 'GET',
          doc: 'A resource pool by id or name.',
          async handle(c) {
            userOf(c);
            return presentPool(await pools.get(c.path.id!));
          },
        },
        {
          method: 'PUT',
          doc: "Update a resource pool's name or description (admin only). The default pool cannot be renamed. restricted=false opens a pool whose entitlements are all gone to every user again (it stays admins-only until then).",
          async handle(c) {
            adminOf(c);
            return presentPool(await pools.update(c.path.id!, form(c.params)));
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a resource pool (admin only). The default pool, and a pool with machines, cannot be deleted.',
          async handle(c) {
            adminOf(c);
            await pools.delete(c.path.id!);
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
