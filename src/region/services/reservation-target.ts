// Who a reservation names (`alice`, `group:team-a`), resolved to a user or group id. Its own module
// because placement rules reserve too and reservations.ts locks machines through transitions.ts,
// which applies placement: kept in reservations.ts it closed an import cycle.
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../errors';

export interface ReservationTarget {
  userId: number | null;
  groupId: number | null;
  label: string;
}

/** `alice` → user, `group:team-a` → group, empty → no reservation. Unknown names are a 400. */
export async function resolveReservation(
  manager: EntityManager,
  value: string,
  field = 'reserved_for',
): Promise<ReservationTarget> {
  const v = value.trim();
  if (v === '') return { userId: null, groupId: null, label: '' };
  const group = v.startsWith('group:') ? v.slice('group:'.length) : undefined;
  const rows: Array<{ id: number }> = await manager.query(
    group === undefined ? `SELECT id FROM users WHERE username = $1` : `SELECT id FROM user_groups WHERE name = $1`,
    [group ?? v],
  );
  if (!rows[0])
    throw ValidationError.field(field, group === undefined ? `No user '${v}'.` : `No user group '${group}'.`);
  return group === undefined
    ? { userId: rows[0].id, groupId: null, label: v }
    : { userId: null, groupId: rows[0].id, label: v };
}
