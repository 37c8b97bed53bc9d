// MAAS's AUTO links (models/node.py claim_auto_ips / release_auto_ips): a machine's AUTO link has
// no address until deploy starts, then takes the lowest free address of its subnet from the
// region's one pool (devices/static-addresses.ts), in the transaction that moves the machine to
// DEPLOYING; release gives the addresses back. STATIC links keep what the user chose.
import type { EntityManager } from 'typeorm';
import { UnavailableError } from '../../errors';
import { pickFreeAddress } from '../devices/static-addresses';

/**
 * Gives every AUTO link of the machine that has no address one of its subnet (links already
 * holding one keep it: a deploy after a failed deploy claims nothing new). Subnets are locked in
 * id order, so two deploys sharing subnets cannot deadlock. None free: MAAS's
 * StaticIPAddressExhaustion, a 503, and the caller's transaction writes nothing.
 */
export async function claimAutoAddresses(tx: EntityManager, machineId: number): Promise<void> {
  const links: Array<{ id: number; subnetId: number }> = await tx.query(
    `SELECT l.id, l.subnet_id AS "subnetId" FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
      WHERE i.machine_id = $1 AND l.mode = 'auto' AND l.ip IS NULL AND l.subnet_id IS NOT NULL
      ORDER BY l.subnet_id, l.id`,
    [machineId],
  );
  for (const link of links) {
    const picked = await pickFreeAddress(tx, link.subnetId);
    if (picked.ip === null) throw new UnavailableError(`No more IPs available in subnet: ${picked.cidr}.`);
    await tx.query(`UPDATE interface_links SET ip = $2::inet WHERE id = $1`, [link.id, picked.ip]);
  }
}

/** Returns the machine's AUTO addresses to the pool (idempotent: release's activity may run it again). */
export async function releaseAutoAddresses(tx: EntityManager, machineId: number): Promise<void> {
  await tx.query(
    `UPDATE interface_links SET ip = NULL
      WHERE mode = 'auto' AND ip IS NOT NULL AND interface_id IN (SELECT id FROM interfaces WHERE machine_id = $1)`,
    [machineId],
  );
}
