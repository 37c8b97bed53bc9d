// Which devices a user sees, as SQL over `d` (devices) and `pm` (its parent machine): the ones
// they own (a device with a parent belongs to the parent's owner), and unowned ones whose parent,
// if any, they can see. Admins see every device. A hidden device is a 404, like a machine.
import { userVisibilitySql } from '../tenancy-sql';
import { EFFECTIVE_OWNER_SQL } from './rows';

/** `user` is a placeholder such as `$3` holding the user's id. */
export function deviceVisibilitySql(user: string): string {
  return `(${EFFECTIVE_OWNER_SQL} = ${user} OR (${EFFECTIVE_OWNER_SQL} IS NULL
    AND (d.parent_id IS NULL OR ${userVisibilitySql('pm', user)})))`;
}
