// Reservations (the 2017 MAAS model, made durable): an admin reserves a machine for a user or a
// group; only they allocate it (before any unassigned machine), others do not see it while it is
// unowned. Unlike MAAS, whose reservation is the owner field, it survives allocate and release.
import type { DataSource, EntityManager } from 'typeorm';
import { authorizeMachine } from '../policy';
import { machineFacts } from './policy-facts';
import { recordEvent } from './events';
import { isAdmin, type Principal } from './principal';
import { resolveReservation } from './reservation-target';
import { reservationAllowsSql, userMayTakeSql } from './tenancy-sql';
import { lockMachine } from './transitions';

export class ReservationService {
  constructor(private readonly db: DataSource) {}

  /**
   * Reserve (or with '' release the reservation of) a machine in any status: it takes effect
   * whenever the machine is READY and unowned. Admins, and groups with `admin` on its pool.
   */
  async reserve(caller: Principal, systemId: string, reservedFor: string, comment = ''): Promise<void> {
    await this.db.transaction(async (tx) => {
      const m = await lockMachine(tx, systemId);
      authorizeMachine(caller, 'reserve', await machineFacts(tx, caller, m));
      const target = await resolveReservation(tx, reservedFor);
      await tx.query(
        `UPDATE machines SET reserved_user_id = $2, reserved_group_id = $3, updated = now() WHERE id = $1`,
        [m.id, target.userId, target.groupId],
      );
      const what = target.label ? `Reserved for ${target.label}.` : 'Reservation removed.';
      await recordEvent(tx, m.id, {
        type: target.label ? 'Reserved' : 'Unreserved',
        description: comment ? `${what} ${comment}` : what,
        level: 'AUDIT',
      });
    });
  }
}

/**
 * Whether the caller may take this (READY, unowned) machine: not reserved for someone else, and
 * (non-admins) a pool they may deploy from. Admins are bound by reservations too: a reserved
 * machine stays its team's until an admin removes the reservation.
 */
export async function mayTake(manager: EntityManager, caller: Principal, machineId: number): Promise<boolean> {
  if (caller.kind !== 'user') return false;
  const rule = isAdmin(caller) ? reservationAllowsSql('m', '$2') : userMayTakeSql('m', '$2');
  const rows: unknown[] = await manager.query(`SELECT 1 FROM machines m WHERE m.id = $1 AND ${rule}`, [
    machineId,
    caller.user.id,
  ]);
  return rows.length > 0;
}
