// Commissioning a machine that has no known MAC address (a deployed machine registered with IPMI
// or manual power and nothing else). Its network boot arrives from a MAC nobody registered, which
// would otherwise enlist a second machine. MAAS recognises such a machine by its BMC address at
// enlistment; the ephemeral environment here cannot read the BMC, so the region keeps the case
// unambiguous instead: one MAC-less machine commissions at a time, and while it does, the first
// unknown MAC that netboots is taken to be its boot interface. Its hardware report then fills in
// the rest (commissioning replaces the machine's hardware facts).
import type { EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../contracts/lifecycle';
import type { Machine } from '../db/entities';
import { ConflictError } from '../errors';
import { recordEvent } from './events';
import { hasMac } from './mac-rules';

/** Serialises the check below across regions and API processes (taken only for MAC-less machines). */
const MACLESS_COMMISSIONING_LOCK = 0x6d6163_6c; // "macl"

const commissioningMacless = `
  SELECT m.id, m.system_id AS "systemId", m.hostname FROM machines m
   WHERE m.status = ${S.COMMISSIONING}
     AND NOT EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id)`;

/** Inside the commission transaction: refuse a second MAC-less commissioning while one runs. */
export async function assertNoOtherMaclessCommissioning(tx: EntityManager, m: Machine): Promise<void> {
  if (await hasMac(tx, m.id)) return;
  await tx.query(`SELECT pg_advisory_xact_lock($1)`, [MACLESS_COMMISSIONING_LOCK]);
  const others: Array<{ systemId: string; hostname: string }> = await tx.query(
    `${commissioningMacless} AND m.id <> $1`,
    [m.id],
  );
  if (others.length === 0) return;
  throw new ConflictError(
    `Cannot commission machine ${m.systemId}: it has no known MAC address, and machine ${others[0]!.systemId} ` +
      `(${others[0]!.hostname}), which has none either, is commissioning. Its network boot could not be told apart; ` +
      'commission one at a time, or give this machine its MAC address first.',
  );
}

/**
 * An unknown MAC is netbooting: if a MAC-less machine is commissioning, the MAC becomes its boot
 * interface and the machine's id is returned; otherwise null (the MAC enlists).
 */
export async function claimUnknownMac(tx: EntityManager, mac: string): Promise<number | null> {
  const holderOf = async (): Promise<number | undefined> =>
    (
      (await tx.query(`SELECT machine_id AS id FROM interfaces WHERE mac_address = $1::macaddr AND type = 'physical'`, [
        mac,
      ])) as Array<{ id: number }>
    )[0]?.id;
  // Claimed since the caller looked (the same MAC asking twice: the rack or iPXE retrying).
  const known = await holderOf();
  if (known !== undefined) return known;
  const candidates: Array<{ id: number }> = await tx.query(
    `${commissioningMacless} AND m.boot_purpose = 'commissioning' ORDER BY m.id FOR UPDATE OF m`,
  );
  if (candidates.length !== 1) return (await holderOf()) ?? null;
  const id = candidates[0]!.id;
  // Whoever waited on the row lock looks again (a new statement, a new snapshot): the same MAC
  // asking twice (the rack or iPXE retrying) finds it claimed by this machine and gets it; another
  // unknown MAC finds the machine has its MAC now; the MAC may also have been registered meanwhile.
  const holder = await holderOf();
  if (holder !== undefined) return holder;
  if (await hasMac(tx, id)) return null;
  // A device's MAC is not unknown: it stays the device's (one MAC, one node).
  if ((await tx.query(`SELECT 1 FROM device_interfaces WHERE mac_address = $1::macaddr`, [mac])).length) return null;
  await tx.query(
    `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot) VALUES ($1, 'eth0', 'physical', $2, true, 0, true)`,
    [id, mac],
  );
  await recordEvent(tx, id, {
    type: 'Commissioning',
    description: `Network boot from ${mac}, a MAC address no machine had, while this machine (no known MAC address) is commissioning: taken as its boot interface.`,
    level: 'INFO',
  });
  return id;
}

/**
 * Whether the rack sets next boot PXE when it powers the machine on: not for a machine with no
 * known MAC outside commissioning (a DEPLOYED one boots its own disk; netbooting, it would enlist).
 */
export async function mayNetboot(manager: EntityManager, m: Pick<Machine, 'id' | 'status'>): Promise<boolean> {
  return m.status === S.COMMISSIONING || (await hasMac(manager, m.id));
}
