// MAAS's SSHKeysHandler and SSHKeyHandler: the caller's own public keys. Unlike MAAS (which lets
// anyone read any key by id and answers 403 to deleting another's), another user's key is a 404:
// what the caller may not see does not exist.
import type { RegionServices } from '../../region/services';
import { ConflictError } from '../../region/errors';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, noMatch, Reply, type Resource } from '../http';
import { presentSshKey } from '../presenters/sshkey';
import { action, callerUser, may, type Ctx } from './access';

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
        action({
          method: 'GET',
          access: may('sshkey', 'read'),
          doc: "List the caller's SSH keys.",
          handle: async (c) => (await users.sshKeys(callerUser(c).id)).map(presentSshKey),
        }),
        action({
          method: 'POST',
          access: may('sshkey', 'create'),
          form: form({
            key: field.text('The public key: "type base64-data [comment]".', { required: true, maxLength: 16_384 }),
          }),
          doc: "Add a public SSH key to the caller's account; 201 with the key.",
          async handle(c) {
            try {
              return Reply.created(presentSshKey(await users.addSshKey(callerUser(c).id, c.form.key)));
            } catch (err) {
              // MAAS reports a duplicate as a form error on `key` (400), not as a conflict.
              if (err instanceof ConflictError) throw badRequest({ key: [err.message] });
              throw err;
            }
          },
        }),
      ],
    },
    {
      name: 'SSHKeyHandler',
      path: '/account/prefs/sshkeys/{id}/',
      doc: 'Manage one of the SSH keys of the logged-in user.',
      actions: [
        action({
          method: 'GET',
          access: may('sshkey', 'read'),
          doc: "One of the caller's SSH keys; 404 for any other.",
          handle: async (c) => presentSshKey(await users.sshKey(callerUser(c).id, keyId(c))),
        }),
        action({
          method: 'DELETE',
          access: may('sshkey', 'delete'),
          doc: "Delete one of the caller's SSH keys; 404 for any other.",
          handle: async (c) => (await users.deleteSshKey(callerUser(c).id, keyId(c)), Reply.noContent()),
        }),
      ],
    },
  ];
}
