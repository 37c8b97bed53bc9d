// User groups (MAAS 3.8's user-group, /user-groups/ and /user-group/{id}/): a team is a group of
// users with their own API keys. Admins manage groups, members and pool entitlements; a user reads
// the groups they belong to (others are 404).
import type { RegionServices } from '../../region/services';
import type { Group, GroupEntitlement } from '../../region/services/groups';
import type { Principal } from '../../region/services/principal';
import { mayDo } from '../../region/policy';
import { field, form, Reply, type Resource } from '../http';
import { action, caller, may, type Ctx } from './access';

const groupForm = form({
  name: field.text('The name of the group.'),
  description: field.text('A description.', { maxLength: 10_000 }),
});
const memberForm = form({ username: field.text('The user.', { required: true }) });
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
const entitlementForm = form(
  {
    resource_type: field.text('The kind of resource: pool (the default and only one).'),
    resource_id: field.text('The pool, by id or name.'),
    entitlement: field.text('view, deploy or admin.'),
  },
  (v) => ({ resourceType: v.resource_type ?? 'pool', resourceId: v.resource_id, entitlement: v.entitlement }),
);

export function groupResources(deps: { services: Pick<RegionServices, 'groups'> }): Array<Resource<Principal>> {
  const { groups } = deps.services;
  /** Admins see every group; users only their own. */
  const scope = (c: Ctx) => {
    const p = caller(c);
    return mayDo(p, may('group', 'read-all')) ? undefined : p.user.id;
  };
  const read = may('group', 'read');
  const update = may('group', 'update');
  return [
    {
      name: 'UserGroupsHandler',
      path: '/user-groups/',
      doc: 'Manage user groups (teams).',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'List user groups (users: the groups they belong to).',
          handle: async (c) => (await groups.list(scope(c))).map(presentGroup),
        }),
        action({
          method: 'POST',
          access: may('group', 'create'),
          form: groupForm,
          doc: 'Create a user group (admin only).',
          handle: async (c) => presentGroup(await groups.create(c.form)),
        }),
      ],
    },
    {
      name: 'UserGroupHandler',
      path: '/user-group/{id}/',
      doc: 'Manage a user group, by id or name.',
      actions: [
        action({
          method: 'GET',
          access: read,
          doc: 'A user group with its members.',
          handle: async (c) => presentGroup(await groups.get(c.path.id!, scope(c))),
        }),
        action({
          method: 'PUT',
          access: update,
          form: groupForm,
          doc: 'Update name or description (admin only).',
          handle: async (c) => presentGroup(await groups.update(c.path.id!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('group', 'delete'),
          doc: 'Delete a user group (admin only): its entitlements go (a pool left with none stays restricted: admins only), machines reserved for it become unassigned.',
          handle: async (c) => (await groups.delete(c.path.id!), Reply.noContent()),
        }),
        action({
          method: 'POST',
          op: 'add_member',
          access: update,
          form: memberForm,
          doc: 'Add a user to the group (admin only).',
          handle: async (c) => presentGroup(await groups.addMember(c.path.id!, c.form.username)),
        }),
        action({
          method: 'POST',
          op: 'remove_member',
          access: update,
          form: memberForm,
          doc: 'Remove a user from the group (admin only).',
          handle: async (c) => presentGroup(await groups.removeMember(c.path.id!, c.form.username)),
        }),
        action({
          method: 'GET',
          op: 'list_entitlements',
          access: read,
          doc: "The group's entitlements (admins, and members).",
          async handle(c) {
            await groups.get(c.path.id!, scope(c));
            return (await groups.entitlements(c.path.id!)).map(presentEntitlement);
          },
        }),
        action({
          method: 'POST',
          op: 'add_entitlement',
          access: update,
          form: entitlementForm,
          doc: 'Grant an entitlement (admin only). A pool on which no group holds an entitlement is open to every user.',
          handle: async (c) => (await groups.setEntitlement(c.path.id!, c.form, true)).map(presentEntitlement),
        }),
        action({
          method: 'POST',
          op: 'remove_entitlement',
          access: update,
          form: entitlementForm,
          doc: 'Withdraw an entitlement (admin only).',
          handle: async (c) => (await groups.setEntitlement(c.path.id!, c.form, false)).map(presentEntitlement),
        }),
      ],
    },
  ];
}
