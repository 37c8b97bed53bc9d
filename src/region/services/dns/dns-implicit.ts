// The records MAAS shows with `dnsresources/?all=true` for what it knows of nodes: each machine's
// FQDN → its interfaces' linked addresses, else the address of its boot interface (the reserved
// IP of its MAC, else its current DHCP lease), each device's FQDN → its static links' addresses. Only the machines and devices the caller can see.
import type { EntityManager } from 'typeorm';
import { userVisibilitySql } from '../tenancy-sql';
import { deviceVisibilitySql } from '../devices/visibility';
import type { Principal } from '../principal';
import { DEFAULT_DNS_TTL, fqdnOf } from './dns-validation';

type User = Extract<Principal, { kind: 'user' }>;

/** MAAS's NODE_TYPE values the records name. */
const NODE_TYPE = { machine: 0, device: 1 } as const;

export interface ImplicitRecord {
  systemId: string;
  nodeType: number;
  userId: number | null;
  ttl: number;
  rrtype: 'A' | 'AAAA';
  rrdata: string;
}

/** MAAS's synthetic DNSResource (id -1): no ip_addresses, its records carry the node. */
export interface ImplicitResource {
  implicit: true;
  domainId: number;
  fqdn: string;
  records: ImplicitRecord[];
}

/**
 * The addresses nodes answer to, one row per (node, address): (hostname, system_id, node_type,
 * user_id, domain, ip), ip possibly NULL. A machine's are every address linked to its interfaces
 * (interface_links: STATIC, and AUTO once picked) or, when it has none, its boot interface's (its
 * MAC's reserved IP, else its current DHCP lease: an expired one may belong to another machine
 * now, and a deployed machine's netboot lease is not where it lives — MAAS leaves discovered
 * addresses out when a node has assigned ones); a device's are its links' addresses. `machineWhere` filters `m` (machines),
 * `deviceWhere` filters `d` (devices) and `pm` (the device's parent machine). Shared by the API's
 * implicit records and the DNS server's zones, so both give the same answer.
 */
export function nodeAddressesSql(machineWhere: string, deviceWhere: string): string {
  return `
       SELECT m.hostname, m.system_id, ${NODE_TYPE.machine} AS node_type, m.owner_id AS user_id, m.domain,
              COALESCE(
                (SELECT r.ip FROM reserved_ips r WHERE r.mac_address = i.mac_address ORDER BY r.id LIMIT 1),
                (SELECT l.ip FROM dhcp_leases l WHERE l.mac_address = i.mac_address AND (l.expires IS NULL OR l.expires > now())
                  ORDER BY l.updated DESC LIMIT 1)
              ) AS ip
         FROM machines m JOIN interfaces i ON i.machine_id = m.id AND i.is_boot
        WHERE ${machineWhere}
          AND NOT EXISTS (SELECT 1 FROM interfaces ai JOIN interface_links al ON al.interface_id = ai.id
                           WHERE ai.machine_id = m.id AND al.ip IS NOT NULL)
       UNION
       SELECT m.hostname, m.system_id, ${NODE_TYPE.machine}, m.owner_id, m.domain, l.ip
         FROM machines m JOIN interfaces i ON i.machine_id = m.id
         JOIN interface_links l ON l.interface_id = i.id AND l.ip IS NOT NULL
        WHERE ${machineWhere}
       UNION
       SELECT d.hostname, d.system_id, ${NODE_TYPE.device}, d.owner_id, d.domain, l.ip
         FROM devices d LEFT JOIN machines pm ON pm.id = d.parent_id
         JOIN device_interfaces di ON di.device_id = d.id
         JOIN device_links l ON l.interface_id = di.id AND l.ip IS NOT NULL
        WHERE ${deviceWhere}`;
}

export async function implicitRecords(
  m: EntityManager,
  caller: User,
  f: { domainId?: number; name?: string; rrtype?: string },
): Promise<ImplicitResource[]> {
  if (f.rrtype !== undefined && f.rrtype !== 'A' && f.rrtype !== 'AAAA') return [];
  const params: unknown[] = [DEFAULT_DNS_TTL];
  const admin = caller.user.isSuperuser;
  const userParam = admin ? '' : `$${params.push(caller.user.id)}`;
  const filters: string[] = [];
  if (f.domainId !== undefined) filters.push(`dm.id = $${params.push(f.domainId)}`);
  if (f.name !== undefined) filters.push(`n.hostname = $${params.push(f.name.toLowerCase())}`);
  if (f.rrtype !== undefined) filters.push(`family(n.ip) = ${f.rrtype === 'A' ? 4 : 6}`);
  const rows: Array<{
    domain_id: number;
    domain: string;
    hostname: string;
    system_id: string;
    node_type: number;
    user_id: number | null;
    ttl: number;
    ip: string;
  }> = await m.query(
    `WITH nodes AS (${nodeAddressesSql(
      admin ? 'TRUE' : userVisibilitySql('m', userParam),
      admin ? 'TRUE' : deviceVisibilitySql(userParam),
    )})
     SELECT dm.id AS domain_id, dm.name AS domain, n.hostname, n.system_id, n.node_type, n.user_id,
            COALESCE(dm.ttl, $1) AS ttl, host(n.ip) AS ip
       FROM nodes n JOIN domains dm ON dm.name = n.domain
      WHERE n.ip IS NOT NULL ${filters.map((w) => `AND ${w}`).join(' ')}
      ORDER BY dm.id, n.hostname, n.ip`,
    params,
  );
  const out: ImplicitResource[] = [];
  for (const r of rows) {
    const fqdn = fqdnOf(r.hostname, r.domain);
    let resource = out.at(-1);
    if (resource?.fqdn !== fqdn) out.push((resource = { implicit: true, domainId: r.domain_id, fqdn, records: [] }));
    resource.records.push({
      systemId: r.system_id,
      nodeType: r.node_type,
      userId: r.user_id,
      ttl: r.ttl,
      rrtype: r.ip.includes(':') ? 'AAAA' : 'A',
      rrdata: r.ip,
    });
  }
  return out;
}
