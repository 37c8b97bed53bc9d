// The region's one pool of static addresses: devices' links, machines' STATIC links and the
// AUTO addresses deploy claims (network/auto-addresses.ts) all pick and check here. Every check
// runs under the subnet's row lock, which reserving an IP address (network/reserved-ips.ts) takes
// too, so a free address is picked or checked once at a time per subnet; device_links.ip and
// interface_links.ip are UNIQUE besides, so a lost race cannot keep an address.
// An address is free when it is in the subnet and is not its network, broadcast or gateway
// address, not inside any IP range (dynamic: the DHCP pool; reserved: kept out of every pool),
// not reserved (ipaddresses), not held by a current DHCP lease, not a rack's own address and not
// another link's (a device's or a machine's).
import net from 'node:net';
import type { EntityManager } from 'typeorm';
import { ConflictError, ValidationError } from '../../errors';
import { ipField } from '../network/addresses';

/** How many addresses from the start of a subnet the automatic pick looks through. */
export const STATIC_PICK_SCAN = 65_536;

const FREE = (candidate: string) => `
      NOT EXISTS (SELECT 1 FROM ip_ranges r WHERE r.subnet_id = $1 AND ${candidate} BETWEEN r.start_ip AND r.end_ip)
  AND NOT EXISTS (SELECT 1 FROM reserved_ips ri WHERE host(ri.ip) = host(${candidate}))
  AND NOT EXISTS (SELECT 1 FROM dhcp_leases l WHERE host(l.ip) = host(${candidate}) AND (l.expires IS NULL OR l.expires > now()))
  AND NOT EXISTS (SELECT 1 FROM device_links dl WHERE host(dl.ip) = host(${candidate}))
  AND NOT EXISTS (SELECT 1 FROM interface_links il WHERE host(il.ip) = host(${candidate}))
  AND NOT (host(${candidate}) = ANY($2::text[]))`;

/** The racks' own addresses (reported as `10.0.0.2/24`), host part only. */
async function rackAddresses(tx: EntityManager): Promise<string[]> {
  const rows: Array<{ addr: string }> = await tx.query(
    `SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(i->'addresses') = 'array' THEN i->'addresses' ELSE '[]' END) AS addr
       FROM racks, jsonb_array_elements(CASE WHEN jsonb_typeof(interfaces) = 'array' THEN interfaces ELSE '[]' END) i`,
  );
  return rows.map((r) => r.addr.split('/')[0] ?? '').filter((a) => net.isIP(a) !== 0);
}

/** Locks the subnet row; the lock holds until the caller's transaction ends. */
async function lockSubnet(tx: EntityManager, subnetId: number): Promise<{ cidr: string; gateway: string | null }> {
  const [row] = (await tx.query(
    `SELECT cidr::text AS cidr, host(gateway_ip) AS gateway FROM subnets WHERE id = $1 FOR UPDATE`,
    [subnetId],
  )) as [{ cidr: string; gateway: string | null }];
  return row;
}

/** The lowest free address of the subnet, or a 409 when none is left in the scanned part. */
export async function pickStaticAddress(tx: EntityManager, subnetId: number): Promise<string> {
  const picked = await pickFreeAddress(tx, subnetId);
  if (picked.ip === null)
    throw new ConflictError(
      `No free IP address is left on subnet ${picked.cidr}: every address is in an IP range, reserved or in use.`,
    );
  return picked.ip;
}

/** The lowest free address of the subnet (null: none in the scanned part), with the subnet's CIDR for messages. */
export async function pickFreeAddress(
  tx: EntityManager,
  subnetId: number,
): Promise<{ ip: string | null; cidr: string }> {
  const subnet = await lockSubnet(tx, subnetId);
  const racks = await rackAddresses(tx);
  // Offsets from the network address: IPv4 leaves out the network and broadcast addresses, IPv6
  // the subnet-router anycast address (offset 0).
  const rows: Array<{ ip: string }> = await tx.query(
    `WITH s AS (SELECT cidr, gateway_ip FROM subnets WHERE id = $1),
          c AS (SELECT (host(network(s.cidr) + n))::inet AS ip, n, s.gateway_ip FROM s,
                  generate_series(1::bigint, LEAST(
                    CASE WHEN family(s.cidr) = 4 THEN power(2::numeric, 32 - masklen(s.cidr)) - 2
                         ELSE power(2::numeric, 128 - masklen(s.cidr)) - 1 END,
                    $3)::bigint) AS n)
     SELECT host(c.ip) AS ip FROM c
      WHERE (c.gateway_ip IS NULL OR host(c.gateway_ip) <> host(c.ip)) AND ${FREE('c.ip')}
      ORDER BY c.n LIMIT 1`,
    [subnetId, racks, STATIC_PICK_SCAN],
  );
  return { ip: rows[0]?.ip ?? null, cidr: subnet.cidr };
}

/** Checks a requested address (400 when it can never be used here, 409 when another holds it). */
export async function checkStaticAddress(tx: EntityManager, subnetId: number, requested: string): Promise<string> {
  const ip = ipField('ip_address', requested, true);
  const subnet = await lockSubnet(tx, subnetId);
  const [row] = (await tx.query(
    `SELECT $3::inet << s.cidr AS inside,
            family(s.cidr) = 4 AND masklen(s.cidr) < 31 AND host($3::inet) IN (host(network(s.cidr)), host(broadcast(s.cidr))) AS edge,
            COALESCE(host(s.gateway_ip) = host($3::inet), false) AS gateway,
            EXISTS (SELECT 1 FROM ip_ranges r WHERE r.subnet_id = $1 AND $3::inet BETWEEN r.start_ip AND r.end_ip) AS in_range,
            ${FREE('$3::inet')} AS free
       FROM subnets s WHERE s.id = $1`,
    [subnetId, await rackAddresses(tx), ip],
  )) as [{ inside: boolean; edge: boolean; gateway: boolean; in_range: boolean; free: boolean }];
  if (!row.inside) throw ValidationError.field('ip_address', `IP address ${ip} is not within subnet ${subnet.cidr}.`);
  if (row.edge || row.gateway)
    throw ValidationError.field(
      'ip_address',
      `IP address ${ip} is the subnet's network, broadcast or gateway address.`,
    );
  if (row.in_range)
    throw ValidationError.field(
      'ip_address',
      `IP address ${ip} is inside an IP range of ${subnet.cidr} (the DHCP pool or a reserved range).`,
    );
  if (!row.free) throw new ConflictError(`IP address ${ip} is already in use.`);
  return ip;
}
