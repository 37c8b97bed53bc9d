// What a subnet's addresses are used for, as MAAS's subnet ops report it (models/subnet.py
// get_ipranges_in_use, render_json_for_related_ips): the gateway and static routes' gateways, DNS
// servers, dynamic and reserved ranges, and every assigned address — machines' links, devices'
// links, reservations, racks' own addresses and current DHCP leases — read by address-use.ts,
// the definition the address pool (devices/static-addresses.ts) allocates around too.
import type { DataSource } from 'typeorm';
import { deviceVisibilitySql } from '../devices/visibility';
import type { Principal } from '../principal';
import { userVisibilitySql } from '../tenancy-sql';
import { addressUse, inUse } from './address-use';
import {
  condense,
  fullRange,
  ipToBigInt,
  statistics,
  unusedRanges,
  type Network,
  type PurposedRange,
  type RangeStatistics,
} from './ip-sets';
import type { SubnetService } from './subnets';

type User = Extract<Principal, { kind: 'user' }>;

/** MAAS's IPADDRESS_TYPE values. */
export const ALLOC_TYPE = { AUTO: 0, STICKY: 1, USER_RESERVED: 4, DISCOVERED: 6 } as const;

/** One address of the subnet, for `op=ip_addresses`. */
export interface SubnetAddress {
  ip: string;
  allocType: number;
  created: Date;
  /** The reservation's user, or the owner of the node holding the address. */
  username: string | null;
  node: {
    systemId: string;
    nodeType: number;
    hostname: string;
    domain: string;
    isContainer: boolean;
    via: string;
  } | null;
}

export interface SubnetUsage {
  network: Network;
  managed: boolean;
  /** In use, reserved ranges included (MAAS's get_ipranges_in_use()). */
  inUse: PurposedRange[];
  /** In use without the reserved ranges (an unmanaged subnet allocates only inside them). */
  inUseWithoutReserved: PurposedRange[];
}

export class SubnetUsageService {
  constructor(
    private readonly db: DataSource,
    private readonly subnets: SubnetService,
  ) {}

  async usage(key: string): Promise<SubnetUsage> {
    const subnet = await this.subnets.get(key);
    const u = await addressUse(this.db, subnet);
    return {
      network: u.network,
      managed: subnet.managed,
      inUse: inUse(u),
      inUseWithoutReserved: [...u.ipv6Reserved, ...u.infrastructure, ...u.assigned, ...u.dynamic],
    };
  }

  /** `op=reserved_ip_ranges`: the ranges in use, with their purposes. */
  async reservedRanges(key: string): Promise<{ version: 4 | 6; ranges: PurposedRange[] }> {
    const u = await this.usage(key);
    return { version: u.network.version, ranges: condense(u.inUse) };
  }

  /**
   * `op=unreserved_ip_ranges`: the free ranges. On an unmanaged subnet "reserved" means the
   * opposite (MAAS may allocate only inside reserved ranges), so only their free parts are listed.
   */
  async unreservedRanges(key: string): Promise<{ version: 4 | 6; ranges: PurposedRange[] }> {
    const u = await this.usage(key);
    const version = u.network.version;
    if (u.managed) return { version, ranges: unusedRanges(u.inUse, u.network) };
    const outside = unusedRanges(u.inUse, u.network, 'unmanaged');
    return { version, ranges: unusedRanges([...u.inUseWithoutReserved, ...outside], u.network) };
  }

  /** `op=statistics`: MAAS's IPRangeStatistics over the subnet's full range. */
  async statistics(key: string): Promise<RangeStatistics & { version: 4 | 6 }> {
    const u = await this.usage(key);
    return { ...statistics(fullRange(u.inUse, u.network), u.network), version: u.network.version };
  }

  /**
   * `op=ip_addresses`: every address held on the subnet, lowest first. Any user with network read
   * sees the addresses (the statistics count them anyway), but a non-admin sees the node and its
   * owner only for machines and devices the listings show them (tenancy-sql, devices/visibility),
   * as the DNS resources' implicit records do.
   */
  async addresses(key: string, caller: User): Promise<SubnetAddress[]> {
    const subnet = await this.subnets.get(key);
    const admin = caller.user.isSuperuser;
    const machineSeen = (m: string) => (admin ? 'TRUE' : userVisibilitySql(m, '$3'));
    const deviceSeen = admin ? 'TRUE' : deviceVisibilitySql('$3');
    const rows: Array<{
      ip: string;
      allocType: number;
      created: Date;
      username: string | null;
      systemId: string | null;
      nodeType: number | null;
      hostname: string | null;
      domain: string | null;
      isContainer: boolean | null;
      via: string | null;
    }> = await this.db.query(
      // A hidden node's row keeps its address and allocation type; its node and user are NULL.
      `SELECT host(l.ip) AS ip, CASE l.mode WHEN 'auto' THEN ${ALLOC_TYPE.AUTO} ELSE ${ALLOC_TYPE.STICKY} END AS "allocType",
              l.created, CASE WHEN seen THEN u.username END AS username, CASE WHEN seen THEN m.system_id END AS "systemId",
              0 AS "nodeType", m.hostname, m.domain, false AS "isContainer", i.name AS via
         FROM interface_links l JOIN interfaces i ON i.id = l.interface_id JOIN machines m ON m.id = i.machine_id
         LEFT JOIN users u ON u.id = m.owner_id, LATERAL (SELECT ${machineSeen('m')} AS seen) v
        WHERE l.subnet_id = $1 AND l.ip IS NOT NULL
       UNION ALL
       SELECT host(l.ip), ${ALLOC_TYPE.STICKY}, l.created, CASE WHEN seen THEN u.username END,
              CASE WHEN seen THEN d.system_id END, 1, d.hostname, d.domain, d.parent_id IS NOT NULL, i.name
         FROM device_links l JOIN device_interfaces i ON i.id = l.interface_id JOIN devices d ON d.id = i.device_id
         LEFT JOIN machines pm ON pm.id = d.parent_id
         LEFT JOIN users u ON u.id = d.owner_id, LATERAL (SELECT ${deviceSeen} AS seen) v
        WHERE l.subnet_id = $1 AND l.ip IS NOT NULL
       UNION ALL
       SELECT host(r.ip), ${ALLOC_TYPE.USER_RESERVED}, r.created, u.username, NULL, NULL, NULL, NULL, NULL, NULL
         FROM reserved_ips r LEFT JOIN users u ON u.id = r.user_id
        WHERE r.subnet_id = $1
       UNION ALL
       SELECT host(dl.ip), ${ALLOC_TYPE.DISCOVERED}, dl.updated, NULL, CASE WHEN seen THEN m.system_id END, 0,
              m.hostname, m.domain, false, i.name
         FROM dhcp_leases dl LEFT JOIN interfaces i ON i.mac_address = dl.mac_address LEFT JOIN machines m ON m.id = i.machine_id,
              LATERAL (SELECT ${machineSeen('m')} AS seen) v
        WHERE dl.ip << $2::cidr AND (dl.expires IS NULL OR dl.expires > now())
        ORDER BY 1`,
      admin ? [subnet.id, subnet.cidr] : [subnet.id, subnet.cidr, caller.user.id],
    );
    return rows
      .map((r) => ({
        ip: r.ip,
        allocType: r.allocType,
        created: new Date(r.created),
        username: r.username,
        node:
          r.systemId === null
            ? null
            : {
                systemId: r.systemId,
                nodeType: r.nodeType ?? 0,
                hostname: r.hostname ?? '',
                domain: r.domain ?? '',
                isContainer: r.isContainer ?? false,
                via: r.via ?? '',
              },
      }))
      .sort((a, b) => {
        const x = ipToBigInt(a.ip);
        const y = ipToBigInt(b.ip);
        return x < y ? -1 : x > y ? 1 : 0;
      });
  }
}
