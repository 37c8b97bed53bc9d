// When a machine must have a known MAC address (issue 7's rules for registered deployed machines,
// which may arrive with none). A MAC is what netboot is keyed on: the rack's boot config is chosen
// by the booting interface. Unknown/manual power never netboots on our initiative, and IPMI is
// accepted without one (MAAS 3.1 lets IPMI machines be registered MAC-less: the BMC is reachable
// and commissioning discovers the interfaces). Every other driver exists to netboot the machine.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../db/entities';
import { ConflictError } from '../errors';

const MACLESS_POWER_TYPES = new Set(['', 'manual', 'ipmi']);

export function powerTypeNeedsMac(powerType: string): boolean {
  return !MACLESS_POWER_TYPES.has(powerType);
}

export async function hasMac(manager: EntityManager, machineId: number): Promise<boolean> {
  const rows: unknown[] = await manager.query(`SELECT 1 FROM interfaces WHERE machine_id = $1 LIMIT 1`, [machineId]);
  return rows.length > 0;
}

/**
 * Operations that netboot the machine (deploy, disk erasure) need its MAC. Commissioning is the
 * exception: it is how a MAC-less machine's interfaces get known.
 */
export async function assertCanNetboot(manager: EntityManager, m: Machine, operation: string): Promise<void> {
  if (await hasMac(manager, m.id)) return;
  throw new ConflictError(
    `Cannot ${operation} machine ${m.systemId}: it has no known MAC address, and ${operation} needs a network boot. ` +
      'Commission it (or report its hardware with maas-run-scripts report-results) first.',
  );
}
