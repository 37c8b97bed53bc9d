// MAAS's AccountHandler: the caller's own API tokens.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { Reply, type Resource } from '../http';
import { presentNewToken, presentTokenListEntry } from '../presenters/token';
import { userOf } from './access';

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
        {
          method: 'POST',
          op: 'create_authorisation_token',
          doc: 'Create an API token (optional name); returns token_key, token_secret, consumer_key and name.',
          async handle(c) {
            const user = userOf(c);
            const name = c.params.string('name', { maxLength: 255 }) || DEFAULT_TOKEN_NAME;
            return presentNewToken(await users.createToken(user.id, name));
          },
        },
        {
          method: 'GET',
          op: 'list_authorisation_tokens',
          doc: "The caller's API tokens: [{name, token: 'consumer_key:token_key:token_secret'}].",
          async handle(c) {
            const user = userOf(c);
            return (await users.tokens(user.id)).map(presentTokenListEntry);
          },
        },
        {
          method: 'POST',
          op: 'delete_authorisation_token',
          doc: "Delete one of the caller's API tokens by token_key.",
          async handle(c) {
            const user = userOf(c);
            const tokenKey = c.params.string('token_key', { required: true });
            await users.deleteToken(user.id, tokenKey);
            return Reply.noContent();
          },
        },
        {
          method: 'POST',
          op: 'update_token_name',
          doc: "Rename one of the caller's API tokens: token (the token key or the whole API key), name.",
          async handle(c) {
            const user = userOf(c);
            const token = c.params.string('token', { required: true });
            const name = c.params.string('name', { required: true, maxLength: 255 });
            await accounts.renameToken(user.id, token, name);
            return Reply.text('Accepted', 202);
          },
        },
      ],
    },
  ];
}
