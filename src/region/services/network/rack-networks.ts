// Subnets a rack controller is attached to become known when it registers, as MAAS learns them
// from its racks: each new network goes on a new fabric's untagged VLAN (addresses of one
// interface share a VLAN). Loopback and link-local addresses are not networks machines boot on.
import type { EntityManager } from 'typeorm';
import type { RackRegistration } from '../../../contracts/rack-api';
import type { FabricService } from './fabrics';
import type { SubnetService } from './subnets';

const NOT_A_NETWORK = ['127.0.0.0/8', '169.254.0.0/16', '::1/128', 'fe80::/10'];

export async function learnRackNetworks(
  tx: EntityManager,
  deps: { fabrics: FabricService; subnets: SubnetService },
  interfaces: RackRegistration['interfaces'],
): Promise<void> {
  // Racks registering at once must not both create the same subnet.
  await tx.query(`SELECT pg_advisory_xact_lock(5240002)`);
  for (const iface of interfaces ?? []) {
    const networks: Array<{ cidr: string; known: number | null; vlan: number | null }> = [];
    for (const address of iface.addresses ?? []) {
      if (!address.includes('/')) continue;
      const rows: Array<{ cidr: string; skip: boolean; known: number | null; vlan: number | null }> = await tx.query(
        `SELECT network(a)::cidr::text AS cidr, a <<= ANY($2::cidr[]) AS skip, s.id AS known, s.vlan_id AS vlan
           FROM (SELECT $1::inet AS a) x LEFT JOIN subnets s ON s.cidr = network(a)::cidr`,
        [address, NOT_A_NETWORK],
      ).catch(() => []);
      const row = rows[0];
      if (row && !row.skip) networks.push(row);
    }
    if (!networks.some((n) => n.known === null)) continue;
    let vlan = networks.find((n) => n.vlan !== null)?.vlan ?? null;
    if (vlan === null) {
      const fabric = await deps.fabrics.create({}, tx);
      const rows: Array<{ id: number }> = await tx.query(`SELECT id FROM vlans WHERE fabric_id = $1 AND vid = 0`, [fabric.id]);
      vlan = rows[0]!.id;
    }
    for (const n of networks.filter((x) => x.known === null)) await deps.subnets.create({ cidr: n.cidr, vlan }, tx);
  }
}
