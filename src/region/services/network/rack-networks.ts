// Subnets a rack controller is attached to become known when it registers, as MAAS learns them
// from its racks: each new network goes on a new fabric's untagged VLAN (addresses of one
// interface share a VLAN). Loopback and link-local addresses are not networks machines boot on.
import net from 'node:net';
import type { EntityManager } from 'typeorm';
import type { RackRegistration } from '../../../contracts/rack-api';
import type { FabricService } from './fabrics';
import { SUBNET_CREATE_LOCK, type SubnetService } from './subnets';

const NOT_A_NETWORK = ['127.0.0.0/8', '169.254.0.0/16', '::1/128', 'fe80::/10'];

export async function learnRackNetworks(
  tx: EntityManager,
  deps: { fabrics: FabricService; subnets: SubnetService },
  interfaces: RackRegistration['interfaces'],
): Promise<void> {
  // Racks registering at once must not both create the same subnet.
  await tx.query(`SELECT pg_advisory_xact_lock(${SUBNET_CREATE_LOCK})`);
  for (const iface of interfaces ?? []) {
    const networks = new Map<string, { known: number | null; vlan: number | null }>();
    for (const address of iface.addresses ?? []) {
      // Checked here, not by a failing cast: an error inside the transaction would abort it.
      if (!isCidrAddress(address)) continue;
      const rows: Array<{ cidr: string; skip: boolean; known: number | null; vlan: number | null; overlaps: boolean }> =
        await tx.query(
          `SELECT network(a)::cidr::text AS cidr, a <<= ANY($2::cidr[]) AS skip, s.id AS known, s.vlan_id AS vlan,
                EXISTS (SELECT 1 FROM subnets o WHERE o.cidr && network(a)::cidr AND o.cidr <> network(a)::cidr) AS overlaps
           FROM (SELECT $1::inet AS a) x LEFT JOIN subnets s ON s.cidr = network(a)::cidr`,
          [address, NOT_A_NETWORK],
        );
      const row = rows[0];
      // A network an admin already described differently (overlapping) is theirs to keep; a second
      // address in the same network (an alias, an IPv6 privacy address) is the same network.
      if (row && !row.skip && !row.overlaps) networks.set(row.cidr, { known: row.known, vlan: row.vlan });
    }
    const unknown = [...networks].filter(([, n]) => n.known === null).map(([cidr]) => cidr);
    if (!unknown.length) continue;
    let vlan = [...networks.values()].find((n) => n.vlan !== null)?.vlan ?? null;
    if (vlan === null) {
      const fabric = await deps.fabrics.create({}, tx);
      const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM vlans WHERE fabric_id = $1 AND vid = 0`, [
        fabric.id,
      ]);
      vlan = rows[0]!.id;
    }
    for (const cidr of unknown) await deps.subnets.create({ cidr, vlan }, tx);
  }
}

/** `10.0.0.1/24` or `fd00::1/64`, without an IPv6 zone. */
function isCidrAddress(value: string): boolean {
  const [addr, bits, extra] = value.split('/');
  const family = net.isIP(addr ?? '');
  return (
    family !== 0 &&
    extra === undefined &&
    bits !== undefined &&
    /^\d{1,3}$/.test(bits) &&
    Number(bits) <= (family === 4 ? 32 : 128) &&
    !value.includes('%')
  );
}
