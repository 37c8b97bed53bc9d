// MAAS's user JSON (UserHandler: username, email, is_local, is_superuser, resource_uri), plus the
// id and last_name that newer MAAS and python-libmaas read.
import type { User } from '../../region/services';

/** As Django's reverse(): percent-encoded, but "@" and "+" (legal in usernames) stay as they are. */
export const userUri = (username: string): string =>
  `/MAAS/api/2.0/users/${encodeURIComponent(username).replace(/%40/g, '@').replace(/%2B/g, '+')}/`;

export function presentUser(u: User): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    is_superuser: u.isSuperuser,
    is_local: true,
    last_name: '',
    resource_uri: userUri(u.username),
  };
}
