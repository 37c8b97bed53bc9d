// MAAS's SSHKeysHandler and SSHKeyHandler: the caller's own public keys. Unlike MAAS (which lets
// anyone read any key by id and answers 403 to deleting another's), another user's key is a 404:
// what the caller may not see does not exist.
import type { RegionServices } from '../../region/services';
import { ConflictError } from '../../region/errors';
import type { Principal } from '../../region/services/principal';
import { badRequest, noMatch, Reply, type Resource } from '../http';
import { presentSshKey } from '../presenters/sshkey';
import { userOf, type Ctx } from './access';

export function sshKeyResources(deps: { services: Pick<RegionServices, 'users'> }): Array<Resource<Principal>> {
  const { users } = deps.services;
  const keyId = (c: Ctx): number => {
    const raw = c.path.id ?? '';
    const id = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(id)) throw noMatch('SSHKey');
    return id;
  };
  return [
    {
      name: 'SSHKeysHandler',
      path: '/account/prefs/sshkeys/',
      doc: 'Manage the SSH keys of the logged-in user.',
      actions: [
        {
          method: 'GET',
          doc: "List the caller's SSH keys.",
          async handle(c) {
            return (await users.sshKeys(userOf(c).id)).map(presentSshKey);
          },
        },
        {
          method: 'POST',
          doc: 'Add a public SSH key (key="type base64-data [comment]") to the caller\'s account; 201 with the key.',
          async handle(c) {
            const user = userOf(c);
            const key = c.params.string('key', { required: true, maxLength: 16_384 });
            try {
              return Reply.created(presentSshKey(await users.addSshKey(user.id, key)));
            } catch (err) {
              // MAAS reports a duplicate as a form error on `key` (400), not as a conflict.
              if (err instanceof ConflictError) throw badRequest({ key: [err.message] });
              throw err;
            }
          },
        },
      ],
    },
    {
      name: 'SSHKeyHandler',
      path: '/account/prefs/sshkeys/{id}/',
      doc: 'Manage one of the SSH keys of the logged-in user.',
      actions: [
        {
          method: 'GET',
          doc: "One of the caller's SSH keys; 404 for any other.",
          async handle(c) {
            return presentSshKey(await users.sshKey(userOf(c).id, keyId(c)));
          },
        },
        {
          method: 'DELETE',
          doc: "Delete one of the caller's SSH keys; 404 for any other.",
          async handle(c) {
            await users.deleteSshKey(userOf(c).id, keyId(c));
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
