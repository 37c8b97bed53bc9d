// The addresses a machine's interfaces hold by DHCP lease, as its view shows them (MAAS's
// discovered links): one query for a whole listing chunk.
import type { EntityManager } from 'typeorm';
import { groupRows } from './group-rows';

export interface InterfaceLink {
  ip: string;
  subnet: { id: number; name: string; cidr: string; gatewayIp: string | null; dnsServers: string[] };
  vlan: {
    id: number;
    vid: number;
    name: string;
    mtu: number;
    dhcpOn: boolean;
    fabricId: number;
    fabricName: string;
    /** The VLAN's space; null is MAAS's "undefined". */
    space: string | null;
    primaryRack: string | null;
    secondaryRack: string | null;
  };
}

interface LeaseRow {
  interface_id: number;
  ip: string;
  subnet_id: number;
  subnet_name: string;
  cidr: string;
  vlan_id: number;
  vid: number;
  vlan_name: string;
  mtu: number;
  dhcp_on: boolean;
  fabric_id: number;
  fabric_name: string;
  space_name: string | null;
  gateway_ip: string | null;
  dns_servers: string[];
  primary_rack: string | null;
  secondary_rack: string | null;
}

/** The leases on `ids`' interfaces as links, by interface id. */
export async function loadLeaseLinks(manager: EntityManager, ids: number[]): Promise<Map<number, InterfaceLink[]>> {
  // A lease shows on one interface of its MAC: the physical one when a bond, bridge or VLAN
  // interface shares it (the table does not say which of them asked for the lease).
  const leases: LeaseRow[] = await manager.query(
    `SELECT DISTINCT ON (l.ip) ai.id AS interface_id, host(l.ip) AS ip, s.id AS subnet_id, s.name AS subnet_name, s.cidr::text AS cidr,
                v.id AS vlan_id, v.vid, v.name AS vlan_name, v.mtu, v.dhcp_on, f.id AS fabric_id, f.name AS fabric_name,
                sp.name AS space_name, host(s.gateway_ip) AS gateway_ip, s.dns_servers,
                pr.system_id AS primary_rack, sr.system_id AS secondary_rack
           FROM interfaces ai JOIN dhcp_leases l ON l.mac_address = ai.mac_address
           JOIN subnets s ON s.id = l.subnet_id JOIN vlans v ON v.id = s.vlan_id JOIN fabrics f ON f.id = v.fabric_id
           LEFT JOIN spaces sp ON sp.id = v.space_id
           LEFT JOIN racks pr ON pr.id = v.primary_rack_id LEFT JOIN racks sr ON sr.id = v.secondary_rack_id
          WHERE ai.machine_id = ANY($1::int[])
          ORDER BY l.ip, (ai.type = 'physical') DESC, ai.id`,
    [ids],
  );
  return groupRows(
    leases,
    (l) => l.interface_id,
    (l): InterfaceLink => ({
      ip: l.ip,
      subnet: {
        id: l.subnet_id,
        name: l.subnet_name,
        cidr: l.cidr,
        gatewayIp: l.gateway_ip,
        dnsServers: l.dns_servers,
      },
      vlan: {
        id: l.vlan_id,
        vid: l.vid,
        name: l.vlan_name,
        mtu: l.mtu,
        dhcpOn: l.dhcp_on,
        fabricId: l.fabric_id,
        fabricName: l.fabric_name,
        space: l.space_name,
        primaryRack: l.primary_rack,
        secondaryRack: l.secondary_rack,
      },
    }),
  );
}
