// The facts the policy needs from the database, looked up before it is asked.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../db/entities';
import type { MachineFacts } from '../policy';
import type { Principal } from './principal';

/** Admins, or a member of a group holding `admin` on the pool. */
export async function administersPool(
  manager: EntityManager,
  caller: Principal,
  poolId: number | null,
): Promise<boolean> {
  if (caller.kind !== 'user') return false;
  if (caller.user.isSuperuser) return true;
  if (poolId === null) return false;
  const rows: unknown[] = await manager.query(
    `SELECT 1 FROM pool_entitlements pe JOIN user_group_members gm ON gm.group_id = pe.group_id
      WHERE pe.pool_id = $1 AND gm.user_id = $2 AND pe.entitlement = 'admin'`,
    [poolId, caller.user.id],
  );
  return rows.length > 0;
}

export async function machineFacts(manager: EntityManager, caller: Principal, m: Machine): Promise<MachineFacts> {
  return {
    systemId: m.systemId,
    ownerId: m.ownerId,
    controller: Boolean(m.workloadAnnotations?.controller),
    administersPool: await administersPool(manager, caller, m.poolId),
  };
}
