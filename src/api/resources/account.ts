// MAAS's AccountHandler: the caller's own API tokens.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { presentNewToken, presentTokenListEntry } from '../presenters/token';
import { action, callerUser, may } from './access';

/** MAAS's GENERIC_CONSUMER: the name of a token created without one. */
const DEFAULT_TOKEN_NAME = 'MAAS consumer';

export function accountResources(deps: {
  services: Pick<RegionServices, 'users' | 'accounts'>;
}): Array<Resource<Principal>> {
  const { users, accounts } = deps.services;
  return [
    {
      name: 'AccountHandler',
      path: '/account/',
      doc: 'Manage the current logged-in user.',
      actions: [
        action({
          method: 'POST',
          op: 'create_authorisation_token',
          access: may('token', 'create'),
          form: form({ name: field.text(`The token's name (default: ${DEFAULT_TOKEN_NAME}).`, { maxLength: 255 }) }),
          doc: 'Create an API token; returns token_key, token_secret, consumer_key and name.',
          handle: async (c) =>
            presentNewToken(await users.createToken(callerUser(c).id, c.form.name || DEFAULT_TOKEN_NAME)),
        }),
        action({
          method: 'GET',
          op: 'list_authorisation_tokens',
          access: may('token', 'read'),
          doc: "The caller's API tokens: [{name, token: 'consumer_key:token_key:token_secret'}].",
          handle: async (c) => (await users.tokens(callerUser(c).id)).map(presentTokenListEntry),
        }),
        action({
          method: 'POST',
          op: 'delete_authorisation_token',
          access: may('token', 'delete'),
          form: form({ token_key: field.text('The key of the token to delete.', { required: true }) }),
          doc: "Delete one of the caller's API tokens.",
          handle: async (c) => (await users.deleteToken(callerUser(c).id, c.form.token_key), Reply.noContent()),
        }),
        action({
          method: 'POST',
          op: 'update_token_name',
          access: may('token', 'update'),
          form: form({
            token: field.text('The token key or the whole API key.', { required: true }),
            name: field.text('The new name.', { required: true, maxLength: 255 }),
          }),
          doc: "Rename one of the caller's API tokens.",
          async handle(c) {
            await accounts.renameToken(callerUser(c).id, c.form.token, c.form.name);
            return Reply.text('Accepted', 202);
          },
        }),
      ],
    },
  ];
}
