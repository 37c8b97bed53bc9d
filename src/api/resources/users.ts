// MAAS's UsersHandler and UserHandler. Everyone may list and read users (as in MAAS); only admins
// create and delete them.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { ValidationError } from '../../region/errors';
import { field, form, Reply, type Resource } from '../http';
import { presentUser } from '../presenters/user';
import { action, callerUser, may } from './access';

const createUserForm = form(
  {
    username: field.text('The username.', { required: true, maxLength: 150 }),
    email: field.text('The email address.', { required: true, maxLength: 254 }),
    password: field.text('The password.', { required: true }),
    is_superuser: field.bool('Whether the user is an administrator (true/false, 1/0).', { required: true }),
  },
  (v) => {
    if (!/^[^@\s]+@[^@\s]+$/.test(v.email)) throw ValidationError.field('email', 'Enter a valid email address.');
    return { username: v.username, email: v.email, password: v.password, isSuperuser: v.is_superuser };
  },
);

export function userResources(deps: {
  services: Pick<RegionServices, 'users' | 'accounts'>;
}): Array<Resource<Principal>> {
  const { users, accounts } = deps.services;
  return [
    {
      name: 'UsersHandler',
      path: '/users/',
      doc: 'Manage the user accounts of this MAAS.',
      actions: [
        action({
          method: 'GET',
          access: may('user', 'read'),
          doc: 'List users, ordered by username.',
          async handle() {
            const all = await users.list();
            return all
              .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
              .map(presentUser);
          },
        }),
        action({
          method: 'POST',
          access: may('user', 'create'),
          form: createUserForm,
          doc: 'Create a user (admin only).',
          handle: async (c) => presentUser(await users.create(c.form)),
        }),
        action({
          method: 'GET',
          op: 'whoami',
          access: may('user', 'read'),
          doc: 'The user whose API key signed the request.',
          handle: async (c) => presentUser(callerUser(c)),
        }),
      ],
    },
    {
      name: 'UserHandler',
      path: '/users/{username}/',
      doc: 'Manage a user account.',
      actions: [
        action({
          method: 'GET',
          access: may('user', 'read'),
          doc: "A user's details.",
          handle: async (c) => presentUser(await users.byUsername(c.path.username!)),
        }),
        action({
          method: 'DELETE',
          access: may('user', 'delete'),
          form: form({ transfer_resources_to: field.text("The user who gets the deleted user's machines.") }),
          doc: 'Delete a user (admin only). One who still owns machines is refused unless transfer_resources_to names who gets them.',
          async handle(c) {
            await accounts.deleteUser(callerUser(c).id, c.path.username!, c.form.transfer_resources_to || undefined);
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
