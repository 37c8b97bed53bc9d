// Who may call: user API keys only (machine tokens are for the metadata server), and admins for
// what MAAS reserves to them. Shared by the small resource files.
import type { User } from '../../region/db/entities';
import type { Principal } from '../../region/services/principal';
import { forbidden, type ActionContext } from '../http';

export type Ctx = ActionContext<Principal>;

export function userOf(c: Ctx): User {
  if (c.principal?.kind !== 'user') throw forbidden('Machine credentials can only use the metadata API.');
  return c.principal.user;
}

export function adminOf(c: Ctx): User {
  const user = userOf(c);
  if (!user.isSuperuser) throw forbidden('You do not have permission to do this: admin only.');
  return user;
}
