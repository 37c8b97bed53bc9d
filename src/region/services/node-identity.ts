// What names one node, machine or device alike: its hostname and its physical MACs (MAAS keeps
// both in one node table; here machines and devices have their own). The checks give MAAS's 400
// before anything is written; node_hostnames and node_macs (migration 0015, kept by triggers)
// refuse the loser of a race between two transactions, which gets the same 400 through
// identityClash.
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../errors';

export const hostnameTaken = (hostname: string) =>
  ValidationError.field('hostname', `Node with hostname "${hostname}" already exists.`);

export const macTaken = (mac: string, holder: string | undefined, field = 'mac_addresses') =>
  ValidationError.field(
    field,
    holder ? `MAC address ${mac} already in use on ${holder}.` : `MAC address ${mac} already in use.`,
  );

/** A 400 unless `hostname` is free or held by `self` (the node being renamed). */
export async function assertHostnameFree(
  tx: EntityManager,
  hostname: string,
  self?: { table: 'machines' | 'devices'; id: number },
): Promise<void> {
  const taken: unknown[] = await tx.query(
    `SELECT 1 FROM machines WHERE hostname = $1 AND NOT ($2 = 'machines' AND id = $3)
     UNION ALL SELECT 1 FROM devices WHERE hostname = $1 AND NOT ($2 = 'devices' AND id = $3)`,
    [hostname, self?.table ?? '', self?.id ?? -1],
  );
  if (taken.length) throw hostnameTaken(hostname);
}

/** A 400 naming the first of `macs` a machine (physical NIC) or a device already has. */
export async function assertMacsFree(tx: EntityManager, macs: string[], field = 'mac_addresses'): Promise<void> {
  if (macs.length === 0) return;
  const [used] = await macHolders(tx, macs);
  if (used) throw macTaken(used.mac, used.node, field);
}

async function macHolders(m: EntityManager, macs: string[]): Promise<Array<{ mac: string; node: string }>> {
  return m.query(
    `SELECT i.mac_address::text AS mac, n.hostname AS node FROM interfaces i JOIN machines n ON n.id = i.machine_id
      WHERE i.type = 'physical' AND i.mac_address = ANY($1::macaddr[])
     UNION ALL
     SELECT di.mac_address::text, d.hostname FROM device_interfaces di JOIN devices d ON d.id = di.device_id
      WHERE di.mac_address = ANY($1::macaddr[])`,
    [macs],
  );
}

/**
 * The 400 a transaction that lost a hostname or MAC race gets, or undefined for any other error.
 * `m` must be outside the failed transaction: it reads who won (committed by now).
 */
export async function identityClash(
  err: unknown,
  m: EntityManager,
  macField = 'mac_addresses',
): Promise<ValidationError | undefined> {
  const pg = err as { code?: string; constraint?: string; detail?: string };
  if (pg.code !== '23505') return undefined;
  const value = /^Key \([^)]*\)=\((.*)\) already exists\.$/.exec(pg.detail ?? '')?.[1] ?? '';
  switch (pg.constraint) {
    case 'node_hostnames_pkey':
    case 'machines_hostname_key':
    case 'devices_hostname_key':
      return hostnameTaken(value);
    case 'node_macs_pkey':
    case 'interfaces_physical_mac':
    case 'device_interfaces_mac_address_key': {
      const [holder] = value ? await macHolders(m, [value]).catch(() => []) : [];
      return macTaken(value, holder?.node, macField);
    }
    default:
      return undefined;
  }
}
