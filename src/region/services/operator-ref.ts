// What a workflow the region starts carries for the operator's view in Temporal: the owner (Owner
// search attribute, details) and the BMC its power steps drive (activity summaries). No secrets.
import type { EntityManager } from 'typeorm';
import type { PowerRef } from '../../contracts/workflows';
import type { Machine } from '../db/entities';

export interface OperatorRef {
  owner?: string;
  power?: PowerRef;
}

export async function operatorRef(manager: EntityManager, m: Machine): Promise<OperatorRef> {
  let owner: string | undefined;
  if (m.ownerId !== null) {
    const rows: Array<{ username: string }> = await manager.query(`SELECT username FROM users WHERE id = $1`, [
      m.ownerId,
    ]);
    owner = rows[0]?.username;
  }
  const address = m.powerParameters?.power_address;
  return {
    ...(owner ? { owner } : {}),
    ...(m.powerType ? { power: { type: m.powerType, ...(address ? { address } : {}) } } : {}),
  };
}
