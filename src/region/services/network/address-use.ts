// What of a subnet's address space is in use, and for what (MAAS's get_ipranges_in_use,
// maasservicelayer's subnet_utilization.py): the ONE definition both the subnet ops
// (subnet-usage.ts: reserved/unreserved ranges, statistics) report and the address pool
// (devices/static-addresses.ts: STATIC picks and checks, deploy's AUTO claims) allocates around.
// Two copies had drifted apart: the pool handed out DNS servers' and routers' addresses and,
// on an IPv6 /64, MAAS's reserved ::1-::ffff:ffff, which the statistics counted as unavailable.
import net from 'node:net';
import type { EntityManager } from 'typeorm';
import { ipToBigInt, parseNetwork, unusedRanges, type Network, type PurposedRange } from './ip-sets';

/** A DataSource or a transaction's EntityManager (the pool reads under the subnet's row lock). */
type Queryable = Pick<EntityManager, 'query'>;

export interface SubnetAddressFacts {
  id: number;
  cidr: string;
  gatewayIp: string | null;
  dnsServers: string[];
}

export interface AddressUse {
  network: Network;
  /** MAAS's own on IPv6: ::1-::ffff:ffff of a /64 ('reserved') and the subnet-router anycast address. */
  ipv6Reserved: PurposedRange[];
  /** The subnet's gateway and its static routes' gateways ('gateway-ip'), its DNS servers ('dns-server'). */
  infrastructure: PurposedRange[];
  /** Addresses held: machines' and devices' links, reservations, current DHCP leases, racks' own. */
  assigned: PurposedRange[];
  dynamic: PurposedRange[];
  reserved: PurposedRange[];
}

/** Reads the subnet's uses; only addresses inside the subnet count. */
export async function addressUse(q: Queryable, subnet: SubnetAddressFacts): Promise<AddressUse> {
  const network = parseNetwork(subnet.cidr);
  const inNetwork = (ip: string | null | undefined): ip is string => {
    if (!ip || net.isIP(ip) !== network.version) return false;
    const v = ipToBigInt(ip);
    return network.first <= v && v <= network.last;
  };
  const one = (ip: string, purpose: string): PurposedRange => {
    const v = ipToBigInt(ip);
    return { first: v, last: v, purposes: [purpose] };
  };

  const ipv6Reserved: PurposedRange[] = [];
  if (network.version === 6) {
    if (network.prefix === 64)
      ipv6Reserved.push({ first: network.first + 1n, last: network.first + 0xffffffffn, purposes: ['reserved'] });
    if (network.prefix < 127)
      ipv6Reserved.push({ first: network.first, last: network.first, purposes: ['rfc-4291-2.6.1'] });
  }

  const infrastructure: PurposedRange[] = [];
  if (inNetwork(subnet.gatewayIp)) infrastructure.push(one(subnet.gatewayIp, 'gateway-ip'));
  for (const dns of subnet.dnsServers) if (inNetwork(dns)) infrastructure.push(one(dns, 'dns-server'));
  const routes: Array<{ ip: string }> = await q.query(
    `SELECT host(gateway_ip) AS ip FROM static_routes WHERE source_id = $1`,
    [subnet.id],
  );
  for (const r of routes) if (inNetwork(r.ip)) infrastructure.push(one(r.ip, 'gateway-ip'));

  // By address rather than by subnet_id: what the UNIQUE indexes on the addresses would refuse.
  const held: Array<{ ip: string }> = await q.query(
    `SELECT host(ip) AS ip FROM interface_links WHERE ip << $1::cidr
     UNION SELECT host(ip) FROM device_links WHERE ip << $1::cidr
     UNION SELECT host(ip) FROM reserved_ips WHERE ip << $1::cidr
     UNION SELECT host(ip) FROM dhcp_leases WHERE ip << $1::cidr AND (expires IS NULL OR expires > now())
     UNION SELECT split_part(a, '/', 1) FROM racks,
             jsonb_array_elements(CASE WHEN jsonb_typeof(interfaces) = 'array' THEN interfaces ELSE '[]' END) i,
             jsonb_array_elements_text(CASE WHEN jsonb_typeof(i->'addresses') = 'array' THEN i->'addresses' ELSE '[]' END) a`,
    [subnet.cidr],
  );
  const assigned = held.filter((r) => inNetwork(r.ip)).map((r) => one(r.ip, 'assigned-ip'));

  const ranges: Array<{ type: string; start: string; end: string }> = await q.query(
    `SELECT type, host(start_ip) AS start, host(end_ip) AS "end" FROM ip_ranges WHERE subnet_id = $1`,
    [subnet.id],
  );
  const rangeOf = (r: { type: string; start: string; end: string }): PurposedRange => ({
    first: ipToBigInt(r.start),
    last: ipToBigInt(r.end),
    purposes: [r.type],
  });
  return {
    network,
    ipv6Reserved,
    infrastructure,
    assigned,
    dynamic: ranges.filter((r) => r.type !== 'reserved').map(rangeOf),
    reserved: ranges.filter((r) => r.type === 'reserved').map(rangeOf),
  };
}

/** Everything not allocatable: what the statistics count as unavailable. */
export function inUse(u: AddressUse): PurposedRange[] {
  return [...u.ipv6Reserved, ...u.infrastructure, ...u.assigned, ...u.reserved, ...u.dynamic];
}

/** The lowest address the statistics count as available, or null when none is. */
export function lowestFree(u: AddressUse): bigint | null {
  return unusedRanges(inUse(u), u.network)[0]?.first ?? null;
}

/** The purposes of the uses that hold `v`. */
export function usesOf(u: AddressUse, v: bigint): { infrastructure: string[]; assigned: boolean; range: boolean } {
  const at = (rs: PurposedRange[]) => rs.filter((r) => r.first <= v && v <= r.last);
  return {
    infrastructure: at(u.infrastructure).flatMap((r) => r.purposes),
    assigned: at(u.assigned).length > 0,
    range: at([...u.dynamic, ...u.reserved]).length > 0,
  };
}
