import type { Machine, User } from '../db/entities';

/** Who is calling: a user with an API key, or a machine with its own token (metadata only). */
export type Principal = { kind: 'user'; user: User } | { kind: 'machine'; machine: Machine };

export const isAdmin = (p: Principal | null): boolean => p?.kind === 'user' && p.user.isSuperuser;
