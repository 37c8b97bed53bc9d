// Controllers (each rack, the region) as machines, as MAAS shows its controllers: DEPLOYED,
// locked, power type manual, with a workload annotation saying what they are (`controller=rack`,
// `region`, or `rack+region` when both run on one host, found by a shared MAC). The owner is
// nobody: a controller is the system's, not a user's, and it exists before any admin does (the
// region registers itself at startup, before `createadmin`); only admins may unlock it.
//
// Idempotent and safe when racks register concurrently: every change here runs under one
// transaction-scoped advisory lock, and the machine is found by its annotation
// (`rack_system_id` / `region_name`), so registering again updates it and never duplicates it.
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../contracts/lifecycle';
import { NotFoundError } from '../errors';
import { newSystemId } from '../ids';
import { recordEvent } from './events';
import { normaliseMac } from './machine-validation';
import { transactionRetryingDeadlocks } from '../db/deadlock-retry';

export type ControllerRole = 'rack' | 'region';

export interface ControllerHost {
  role: ControllerRole;
  /** The rack's system_id, or the region's name. */
  id: string;
  hostname: string;
  interfaces: Array<{ name: string; mac: string }>;
}

/** pg_advisory_xact_lock key for controller machines ("mfcm"). */
const LOCK = 0x6d66636d;
const ID_KEY: Record<ControllerRole, string> = { rack: 'rack_system_id', region: 'region_name' };

const rolesOf = (a: Record<string, string>): ControllerRole[] =>
  (a.controller ?? '').split('+').filter((r): r is ControllerRole => r === 'rack' || r === 'region');
const annotate = (a: Record<string, string>, roles: ControllerRole[]): Record<string, string> => {
  const out = { ...a };
  if (roles.length) out.controller = [...new Set(roles)].sort().join('+');
  else delete out.controller;
  return out;
};

interface Row {
  id: number;
  system_id: string;
  workload_annotations: Record<string, string>;
  power_type: string;
}

async function findController(
  tx: EntityManager,
  role: ControllerRole,
  id: string,
  macs: string[],
): Promise<Row | undefined> {
  const byId: Row[] = await tx.query(
    `SELECT id, system_id, workload_annotations, power_type FROM machines WHERE workload_annotations->>$1 = $2 ORDER BY id LIMIT 1`,
    [ID_KEY[role], id],
  );
  if (byId[0] || macs.length === 0) return byId[0];
  // The other controller on the same host (region and rack together): one machine, both roles.
  const byMac: Row[] = await tx.query(
    `SELECT m.id, m.system_id, m.workload_annotations, m.power_type FROM machines m
      WHERE m.workload_annotations ? 'controller' AND NOT m.workload_annotations ? $2
        AND EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ANY($1::macaddr[]))
      ORDER BY m.id LIMIT 1`,
    [macs, ID_KEY[role]],
  );
  return byMac[0];
}

/** A hostname MAAS accepts, derived from a controller's name. */
function hostnameFor(name: string): string {
  const h = name
    .toLowerCase()
    .split('.')[0]!
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 56);
  return h || 'controller';
}

/**
 * A controller is gone: its machine loses that role. A machine with no role left is unlocked, and
 * deleted when it has no BMC (power type manual or none): nothing could power or reuse it.
 * Returns what happened to the machine.
 */
export async function removeControllerRole(
  tx: EntityManager,
  role: ControllerRole,
  id: string,
): Promise<'none' | 'kept' | 'unlocked' | 'deleted'> {
  await tx.query(`SELECT pg_advisory_xact_lock($1)`, [LOCK]);
  const found = await findController(tx, role, id, []);
  if (!found) return 'none';
  const roles = rolesOf(found.workload_annotations).filter((r) => r !== role);
  const annotations = annotate(found.workload_annotations, roles);
  delete annotations[ID_KEY[role]];
  if (roles.length) {
    await tx.query(`UPDATE machines SET workload_annotations = $2, updated = now() WHERE id = $1`, [
      found.id,
      JSON.stringify(annotations),
    ]);
    await recordEvent(tx, found.id, {
      type: 'Controller',
      description: `No longer the ${role} controller.`,
      level: 'INFO',
    });
    return 'kept';
  }
  if (found.power_type === 'manual' || found.power_type === '') {
    await tx.query(`DELETE FROM machines WHERE id = $1`, [found.id]);
    return 'deleted';
  }
  await tx.query(`UPDATE machines SET workload_annotations = $2, locked = false, updated = now() WHERE id = $1`, [
    found.id,
    JSON.stringify(annotations),
  ]);
  await recordEvent(tx, found.id, {
    type: 'Unlocked',
    description: `The ${role} controller was removed; the machine is unlocked.`,
    level: 'AUDIT',
  });
  return 'unlocked';
}

export interface RegionController {
  systemId: string;
  hostname: string;
  name: string;
  /** Also a rack on the same host. */
  alsoRack: boolean;
}

/**
 * The whole operations on controllers' machines: registering one (a rack when it registers, the
 * region when it starts), removing a rack or a region, listing the regions. Composed once in
 * createRegionServices (`services.controllers`).
 */
export class ControllerService {
  constructor(private readonly db: DataSource) {}

  /** Create or update the machine of a controller; returns its system_id. */
  async ensureMachine(c: ControllerHost): Promise<string> {
    const nics = c.interfaces
      .map((i) => ({ name: i.name, mac: normaliseMac(i.mac ?? '') }))
      .filter((i): i is { name: string; mac: string } => !!i.mac && i.mac !== '00:00:00:00:00:00');
    const macs = [...new Set(nics.map((i) => i.mac))];
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1)`, [LOCK]);
      const found = await findController(tx, c.role, c.id, macs);
      let machineId: number;
      let systemId: string;
      if (found) {
        const roles = [...rolesOf(found.workload_annotations), c.role];
        const annotations = annotate({ ...found.workload_annotations, [ID_KEY[c.role]]: c.id }, roles);
        await tx.query(`UPDATE machines SET workload_annotations = $2, locked = true, updated = now() WHERE id = $1`, [
          found.id,
          JSON.stringify(annotations),
        ]);
        if (!rolesOf(found.workload_annotations).includes(c.role)) {
          await recordEvent(tx, found.id, {
            type: 'Controller',
            description: `Also the ${c.role} controller ${c.hostname}.`,
            level: 'DEBUG',
          });
        }
        machineId = found.id;
        systemId = found.system_id;
      } else {
        systemId = newSystemId();
        let hostname = hostnameFor(c.hostname);
        const clash: unknown[] = await tx.query(`SELECT 1 FROM machines WHERE hostname = $1`, [hostname]);
        if (clash.length) hostname = `${hostname}-${systemId}`;
        const rows: Array<{ id: number }> = await tx.query(
          `INSERT INTO machines (system_id, hostname, status, previous_status, owner_id, locked, power_type, zone_id, pool_id,
                                 workload_annotations, osystem)
           VALUES ($1, $2, $3, $3, NULL, true, 'manual', (SELECT id FROM zones WHERE name = 'default'),
                   (SELECT id FROM resource_pools WHERE name = 'default'), $4, 'ubuntu')
           RETURNING id`,
          [systemId, hostname, S.DEPLOYED, JSON.stringify(annotate({ [ID_KEY[c.role]]: c.id }, [c.role]))],
        );
        machineId = rows[0]!.id;
        await recordEvent(tx, machineId, {
          type: 'Controller',
          description: `The ${c.role} controller ${c.hostname}, registered as a deployed, locked machine.`,
          level: 'DEBUG',
        });
      }
      // MACs another machine or a device already has stay with it (a physical MAC belongs to one node).
      for (const nic of nics) {
        await tx.query(
          `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot)
           SELECT $1::int, $2::text, 'physical', $3::macaddr, true, 0, false
            WHERE NOT EXISTS (SELECT 1 FROM device_interfaces WHERE mac_address = $3::macaddr)
           ON CONFLICT (mac_address) WHERE type = 'physical' DO UPDATE SET name = EXCLUDED.name
           WHERE interfaces.machine_id = EXCLUDED.machine_id`,
          [machineId, nic.name, nic.mac],
        );
      }
      return systemId;
    });
  }

  /**
   * DELETE rackcontrollers/{id}: the rack, then its machine (above). Machines it served move to the
   * rack heard from most recently (NULL when none is left: the FK's ON DELETE SET NULL); a VLAN whose
   * primary it was gets its secondary as primary; its DHCP leases go with it (ON DELETE CASCADE).
   */
  async removeRack(systemId: string): Promise<void> {
    // Its UPDATE locks the rack's machines in scan order: an allocation's wait can close a cycle.
    await transactionRetryingDeadlocks(this.db, async (tx) => {
      const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM racks WHERE system_id = $1 FOR UPDATE`, [
        systemId,
      ]);
      const rack = rows[0];
      if (!rack) throw new NotFoundError('No RackController matches the given query.');
      await tx.query(
        `UPDATE machines SET rack_id = (SELECT id FROM racks WHERE id <> $1 ORDER BY last_seen DESC, id LIMIT 1) WHERE rack_id = $1`,
        [rack.id],
      );
      await tx.query(
        `UPDATE vlans SET primary_rack_id = secondary_rack_id, secondary_rack_id = NULL WHERE primary_rack_id = $1`,
        [rack.id],
      );
      await tx.query(`DELETE FROM racks WHERE id = $1`, [rack.id]);
      await removeControllerRole(tx, 'rack', systemId);
    });
  }

  /** The regions that registered themselves (their machines carry `region_name`). */
  async listRegions(): Promise<RegionController[]> {
    const rows: Array<Row & { hostname: string }> = await this.db.query(
      `SELECT id, system_id, hostname, workload_annotations, power_type FROM machines WHERE workload_annotations ? 'region_name' ORDER BY id`,
    );
    return rows.map((r) => ({
      systemId: r.system_id,
      hostname: r.hostname,
      name: r.workload_annotations.region_name!,
      alsoRack: rolesOf(r.workload_annotations).includes('rack'),
    }));
  }

  /**
   * DELETE regioncontrollers/{id}: the region's machine loses its region role (above: unlocked, or
   * deleted without a BMC; kept when it is also a rack). A region process still running registers
   * itself again when it next starts, as a rack does.
   */
  async removeRegion(systemId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows: Array<{ name: string }> = await tx.query(
        `SELECT workload_annotations->>'region_name' AS name FROM machines WHERE system_id = $1 AND workload_annotations ? 'region_name'`,
        [systemId],
      );
      if (!rows[0]) throw new NotFoundError('No RegionController matches the given query.');
      await removeControllerRole(tx, 'region', rows[0].name);
    });
  }
}
