// User groups (MAAS 3.8's user-group, /user-groups/ and /user-group/{id}/): a team is a group of
// users with their own API keys. Admins manage groups, members and pool entitlements; a user reads
// the groups they belong to (others are 404).
import type { RegionServices } from '../../region/services';
import type { Group, GroupEntitlement } from '../../region/services/groups';
import type { Principal } from '../../region/services/principal';
import { Reply, type Params, type Resource } from '../http';
import { adminOf, userOf, type Ctx } from './access';

const form = (p: Params) => ({ name: p.string('name'), description: p.string('description', { maxLength: 10_000 }) });
const presentGroup = (g: Group) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  members: g.members,
  resource_uri: `/MAAS/api/2.0/user-group/${g.id}/`,
});
const presentEntitlement = (e: GroupEntitlement) => ({
  resource_type: e.resourceType,
  resource_id: e.resourceId,
  resource_name: e.resourceName,
  entitlement: e.entitlement,
});
const entitlementForm = (p: Params) => ({
  resourceType: p.string('resource_type') ?? 'pool',
  resourceId: p.string('resource_id'),
  entitlement: p.string('entitlement'),
});

export function groupResources(deps: { services: Pick<RegionServices, 'groups'> }): Array<Resource<Principal>> {
  const { groups } = deps.services;
  /** Admins see every group; users only their own. */
  const scope = (c: Ctx) => {
    const user = userOf(c);
    return user.isSuperuser ? undefined : user.id;
  };
  return [
    {
      name: 'UserGroupsHandler',
      path: '/user-groups/',
      doc: 'Manage user groups (teams).',
      actions: [
        {
          method: 'GET',
          doc: 'List user groups (users: the groups they belong to).',
          handle: async (c) => (await groups.list(scope(c))).map(presentGroup),
        },
        {
          method: 'POST',
          doc: 'Create a user group (admin only): name, description.',
          handle: async (c) => (adminOf(c), presentGroup(await groups.create(form(c.params)))),
        },
      ],
    },
    {
      name: 'UserGroupHandler',
      path: '/user-group/{id}/',
      doc: 'Manage a user group, by id or name.',
      actions: [
        {
          method: 'GET',
          doc: 'A user group with its members.',
          handle: async (c) => presentGroup(await groups.get(c.path.id!, scope(c))),
        },
        {
          method: 'PUT',
          doc: 'Update name or description (admin only).',
          handle: async (c) => (adminOf(c), presentGroup(await groups.update(c.path.id!, form(c.params)))),
        },
        {
          method: 'DELETE',
          doc: 'Delete a user group (admin only): its entitlements go (a pool left with none stays restricted: admins only), machines reserved for it become unassigned.',
          async handle(c) {
            adminOf(c);
            await groups.delete(c.path.id!);
            return Reply.noContent();
          },
        },
        {
          method: 'POST',
          op: 'add_member',
          doc: 'Add a user (username) to the group (admin only).',
          handle: async (c) => (
            adminOf(c),
            presentGroup(await groups.addMember(c.path.id!, c.params.string('username', { required: true })!))
          ),
        },
        {
          method: 'POST',
          op: 'remove_member',
          doc: 'Remove a user (username) from the group (admin only).',
          handle: async (c) => (
            adminOf(c),
            presentGroup(await groups.removeMember(c.path.id!, c.params.string('username', { required: true })!))
          ),
        },
        {
          method: 'GET',
          op: 'list_entitlements',
          doc: "The group's entitlements (admins, and members).",
          async handle(c) {
            await groups.get(c.path.id!, scope(c));
            return (await groups.entitlements(c.path.id!)).map(presentEntitlement);
          },
        },
        {
          method: 'POST',
          op: 'add_entitlement',
          doc: 'Grant an entitlement (admin only): resource_type=pool, resource_id (pool id or name), entitlement=view|deploy|admin. A pool on which no group holds an entitlement is open to every user.',
          handle: async (c) => (
            adminOf(c),
            (await groups.setEntitlement(c.path.id!, entitlementForm(c.params), true)).map(presentEntitlement)
          ),
        },
        {
          method: 'POST',
          op: 'remove_entitlement',
          doc: 'Withdraw an entitlement (admin only): resource_type, resource_id, entitlement.',
          handle: async (c) => (
            adminOf(c),
            (await groups.setEntitlement(c.path.id!, entitlementForm(c.params), false)).map(presentEntitlement)
          ),
        },
      ],
    },
  ];
}
