// MAAS's UsersHandler and UserHandler. Everyone may list and read users (as in MAAS); only admins
// create and delete them.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { ValidationError } from '../../region/errors';
import { Reply, type Resource } from '../http';
import { presentUser } from '../presenters/user';
import { adminOf, userOf } from './access';

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
        {
          method: 'GET',
          doc: 'List users, ordered by username.',
          async handle(c) {
            userOf(c);
            const all = await users.list();
            return all
              .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
              .map(presentUser);
          },
        },
        {
          method: 'POST',
          doc: 'Create a user (admin only): username, email, password, is_superuser (true/false, 1/0).',
          async handle(c) {
            adminOf(c);
            const p = c.params;
            const username = p.string('username', { required: true, maxLength: 150 });
            const email = p.string('email', { required: true, maxLength: 254 });
            const password = p.string('password', { required: true });
            const isSuperuser = p.bool('is_superuser', { required: true });
            if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw ValidationError.field('email', 'Enter a valid email address.');
            return presentUser(await users.create({ username, email, password, isSuperuser }));
          },
        },
        {
          method: 'GET',
          op: 'whoami',
          doc: 'The user whose API key signed the request.',
          async handle(c) {
            return presentUser(userOf(c));
          },
        },
      ],
    },
    {
      name: 'UserHandler',
      path: '/users/{username}/',
      doc: 'Manage a user account.',
      actions: [
        {
          method: 'GET',
          doc: "A user's details.",
          async handle(c) {
            userOf(c);
            return presentUser(await users.byUsername(c.path.username!));
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a user (admin only). One who still owns machines is refused unless transfer_resources_to names who gets them.',
          async handle(c) {
            const admin = adminOf(c);
            const transferTo = c.params.string('transfer_resources_to') || undefined;
            await accounts.deleteUser(admin.id, c.path.username!, transferTo);
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
