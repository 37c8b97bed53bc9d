// Who may see and who may allocate a machine, as SQL over the machine row (so listings, events and
// allocation filter in the database, in one query, whatever the count). Entitlements are per pool
// and held by groups. A pool nobody was ever entitled to is open to every user (how metalflow
// behaved before groups, and MAAS before RBAC); the first entitlement makes it `restricted`, and it
// stays so, fail-closed (admins only), when its last entitlement goes (revoked, or its group
// deleted), until an admin opens it again (PUT resourcepool/{id}/ restricted=false).
export type Entitlement = 'view' | 'deploy' | 'admin';
export const ENTITLEMENTS: readonly Entitlement[] = ['view', 'deploy', 'admin'];

/** `user` is a placeholder such as `$3` holding the user's id. */
const groupsOf = (user: string) => `(SELECT group_id FROM user_group_members WHERE user_id = ${user})`;

const poolsEntitled = (user: string, levels: readonly Entitlement[]) =>
  `(SELECT pe.pool_id FROM pool_entitlements pe JOIN user_group_members gm ON gm.group_id = pe.group_id
     WHERE gm.user_id = ${user} AND pe.entitlement IN (${levels.map((l) => `'${l}'`).join(', ')}))`;

/** The pool lets the user do what `levels` allow (an open pool lets everyone). */
export function poolAllowsSql(m: string, user: string, levels: readonly Entitlement[]): string {
  return `(${m}.pool_id IS NULL OR ${m}.pool_id NOT IN (SELECT id FROM resource_pools WHERE restricted) OR ${m}.pool_id IN ${poolsEntitled(user, levels)})`;
}

/** Reserved for the user or for one of their groups. */
export function reservedToSql(m: string, user: string): string {
  return `(${m}.reserved_user_id = ${user} OR ${m}.reserved_group_id IN ${groupsOf(user)})`;
}

/** Not reserved for anyone else. */
export function reservationAllowsSql(m: string, user: string): string {
  return `((${m}.reserved_user_id IS NULL AND ${m}.reserved_group_id IS NULL) OR ${reservedToSql(m, user)})`;
}

/**
 * What a (non-admin) user sees: their own machines, every machine of a pool they administer, and
 * unowned machines not reserved for someone else in pools they may view.
 */
export function userVisibilitySql(m: string, user: string): string {
  return `(${m}.owner_id = ${user} OR ${m}.pool_id IN ${poolsEntitled(user, ['admin'])}
    OR (${m}.owner_id IS NULL AND ${reservationAllowsSql(m, user)} AND ${poolAllowsSql(m, user, ENTITLEMENTS)}))`;
}

/** What a user may take (allocate, or deploy straight from READY), status aside. */
export function userMayTakeSql(m: string, user: string): string {
  return `((${m}.owner_id IS NULL OR ${m}.owner_id = ${user}) AND ${reservationAllowsSql(m, user)} AND ${poolAllowsSql(m, user, ['deploy', 'admin'])})`;
}
