// Re-registration of a deployed host (maas-run-scripts register-machine run again): the host is
// found by the stable identity it sent the first time (`host_id`), so running the script twice,
// or after the host was renamed, updates the one machine instead of creating a second. The
// machine keeps its name, owner, hardware and token: the credentials file written earlier stays
// valid.
import type { EntityManager } from 'typeorm';
import { labelOf, MachineStatus as S } from '../../contracts/lifecycle';
import type { Machine } from '../db/entities';
import { ConflictError, ValidationError } from '../errors';
import { recordEvent } from './events';
import { lockMachine } from './transitions';

/** /etc/machine-id is 32 hex digits, a DMI UUID 36 characters; allow other stable ids too. */
const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

export function validateHostId(value: string): string {
  const id = value.trim().toLowerCase();
  if (!HOST_ID.test(id))
    throw ValidationError.field('host_id', `Invalid host_id '${value}': 8-128 letters, digits, '.', '_', ':' or '-'.`);
  return id;
}

/**
 * The machine already registered from this host, or null when the host is new. A step in the
 * caller's transaction (the machine row is locked until it commits).
 */
export async function reregisterHost(
  tx: EntityManager,
  hostId: string,
  requestedHostname: string | undefined,
): Promise<Machine | null> {
  const id = validateHostId(hostId);
  const rows: Array<{ system_id: string }> = await tx.query(`SELECT system_id FROM machines WHERE host_id = $1`, [id]);
  if (!rows[0]) return null;
  const m = await lockMachine(tx, rows[0].system_id);
  // Anything but DEPLOYED means metalflow now drives the machine (released to the pool,
  // allocated, being commissioned): declaring it "running a workload" again could let it be
  // deployed over that workload, so the operator has to decide.
  if (m.status !== S.DEPLOYED) {
    throw new ConflictError(
      `This host is already registered as machine ${m.systemId} (${m.hostname}), which is ${labelOf(m.status)}; delete it or deploy it through metalflow.`,
    );
  }
  const renamed =
    requestedHostname && requestedHostname.toLowerCase() !== m.hostname
      ? ` (the host now calls itself "${requestedHostname}"; the machine keeps its name)`
      : '';
  await recordEvent(tx, m.id, {
    type: 'Registered again',
    description: `register-machine ran again on this host${renamed}.`,
    level: 'INFO',
  });
  return m;
}
