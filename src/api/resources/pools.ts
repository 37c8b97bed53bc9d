// MAAS's ResourcePoolsHandler (/resourcepools/) and ResourcePoolHandler (/resourcepool/{id}/,
// singular, with the pool's id or name). Everyone reads pools; admins create, edit and delete them.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { presentPool } from '../presenters/pool';
import { action, may } from './access';

const poolForm = form({
  name: field.text('The name of the pool.'),
  description: field.text('A description of the pool.', { maxLength: 10_000 }),
  restricted: field.bool(
    'false opens a pool whose entitlements are all gone to every user again (it stays admins-only until then).',
  ),
});

export function poolResources(deps: { services: Pick<RegionServices, 'pools'> }): Array<Resource<Principal>> {
  const { pools } = deps.services;
  return [
    {
      name: 'ResourcePoolsHandler',
      path: '/resourcepools/',
      doc: 'Manage resource pools.',
      actions: [
        action({
          method: 'GET',
          access: may('pool', 'read'),
          doc: 'List resource pools, ordered by name. There is always at least one: default.',
          handle: async () => (await pools.list()).map(presentPool),
        }),
        action({
          method: 'POST',
          access: may('pool', 'create'),
          form: poolForm,
          doc: 'Create a resource pool (admin only).',
          handle: async (c) => presentPool(await pools.create(c.form)),
        }),
      ],
    },
    {
      name: 'ResourcePoolHandler',
      path: '/resourcepool/{id}/',
      doc: 'Manage a resource pool, by id or name.',
      actions: [
        action({
          method: 'GET',
          access: may('pool', 'read'),
          doc: 'A resource pool by id or name.',
          handle: async (c) => presentPool(await pools.get(c.path.id!)),
        }),
        action({
          method: 'PUT',
          access: may('pool', 'update'),
          form: poolForm,
          doc: "Update a resource pool's name or description (admin only). The default pool cannot be renamed.",
          handle: async (c) => presentPool(await pools.update(c.path.id!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('pool', 'delete'),
          doc: 'Delete a resource pool (admin only). The default pool, and a pool with machines, cannot be deleted.',
          handle: async (c) => (await pools.delete(c.path.id!), Reply.noContent()),
        }),
      ],
    },
  ];
}
