// What a rack controller's DHCP server serves, and what it reports back. A VLAN with DHCP on is
// served by its primary rack; its secondary takes over when the primary has been silent for
// FAILOVER_AFTER_S, so one rack dying does not stop machines from booting.
import type { DataSource } from 'typeorm';
import { RACK_FAILOVER_AFTER_S } from '../../../contracts/rack-api';
import type { DhcpConfig, DhcpLeaseEvent, DhcpSubnetConfig } from '../../../contracts/rack-api';
import net from 'node:net';
import { NotFoundError, ValidationError } from '../../errors';
import { normaliseMac } from '../machine-validation';
import type { DhcpSnippetService } from './dhcp-snippets';

/** Three missed heartbeats (every 10 s) plus slack; the same delay moves a rack's task queue. */
export const FAILOVER_AFTER_S = RACK_FAILOVER_AFTER_S;
/** MAAS's dhcpd default-lease-time. */
const LEASE_SECONDS = 600;

interface SubnetConfigRow {
  subnetId: number;
  cidr: string;
  gatewayIp: string | null;
  dnsServers: string[];
  mtu: number;
  routes: Array<{ destination: string; gateway: string }> | null;
  ranges: Array<{ type: string; start: string; end: string }> | null;
  fixed: Array<{ mac: string; ip: string; hostname: string }> | null;
}

export class RackDhcpService {
  constructor(
    private readonly db: DataSource,
    private readonly snippets: Pick<DhcpSnippetService, 'layers'>,
  ) {}

  async config(rackSystemId: string): Promise<DhcpConfig> {
    const rack = await this.rackId(rackSystemId);
    const rows: SubnetConfigRow[] = await this.db.query(
      `SELECT s.id AS "subnetId", s.cidr::text AS cidr, host(s.gateway_ip) AS "gatewayIp", s.dns_servers AS "dnsServers",
              v.mtu,
              (SELECT json_agg(json_build_object('destination', d.cidr::text, 'gateway', host(r.gateway_ip)) ORDER BY r.metric, r.id)
                 FROM static_routes r JOIN subnets d ON d.id = r.destination_id
                WHERE r.source_id = s.id AND family(d.cidr) = 4) AS routes,
              (SELECT json_agg(json_build_object('type', r.type, 'start', host(r.start_ip), 'end', host(r.end_ip)) ORDER BY r.start_ip)
                 FROM ip_ranges r WHERE r.subnet_id = s.id) AS ranges,
              (SELECT json_agg(json_build_object('mac', x.mac_address::text, 'ip', host(x.ip), 'hostname', x.hostname) ORDER BY x.ip)
                 FROM reserved_ips x WHERE x.subnet_id = s.id AND x.mac_address IS NOT NULL) AS fixed
         FROM subnets s JOIN vlans v ON v.id = s.vlan_id
         LEFT JOIN racks p ON p.id = v.primary_rack_id
        WHERE v.dhcp_on AND family(s.cidr) = 4
          AND (v.primary_rack_id = $1
               OR (v.secondary_rack_id = $1 AND (p.id IS NULL OR p.last_seen < now() - make_interval(secs => $2))))
        ORDER BY s.id`,
      [rack, FAILOVER_AFTER_S],
    );
    const derived = await this.derived();
    const snippets = await this.snippets.layers();
    const subnets = rows
      .map((r) => ({ ...toSubnetConfig(r, derived), snippets: snippets.bySubnet.get(r.subnetId) }))
      .filter((s) => s.dynamicRanges.length > 0 || s.fixed.length > 0);
    return { subnets, globalSnippets: snippets.global, hostSnippets: snippets.hosts };
  }

  /** What MAAS derives from its settings: ntp_servers (addresses only: option 42 holds no names), the default domain. */
  private async derived(): Promise<Derived> {
    const [row] = (await this.db.query(
      `SELECT (SELECT value #>> '{}' FROM config WHERE name = 'ntp_servers') AS ntp,
              (SELECT name FROM domains WHERE is_default) AS domain`,
    )) as [{ ntp: string | null; domain: string | null }];
    const ntpServers = (row.ntp ?? '').split(/[\s,]+/).filter((s) => net.isIPv4(s));
    return { ntpServers, domain: row.domain ?? 'maas' };
  }

  /**
   * Commits upsert the lease; releases and expiries remove it (only if the same MAC still holds it).
   * An event that makes no sense (a client's odd hardware address, say) is skipped and counted, not
   * allowed to hold back the rest of the report: the rack would otherwise drop or resend it whole.
   */
  /** `replace`: the events are the rack's whole lease table; its leases not in it are gone. */
  async recordLeases(
    rackSystemId: string,
    events: DhcpLeaseEvent[],
    o: { replace?: boolean } = {},
  ): Promise<{ recorded: number; skipped: number }> {
    const rack = await this.rackId(rackSystemId);
    const valid = events.filter(
      (e) => net.isIPv4(String(e.ip)) && normaliseMac(String(e.mac)) && !Number.isNaN(Date.parse(String(e.at))),
    );
    if (o.replace && valid.some((e) => e.action !== 'commit'))
      throw ValidationError.field('replace', 'A lease table (replace) holds commits only.');
    await this.db.transaction(async (tx) => {
      if (o.replace)
        await tx.query(`DELETE FROM dhcp_leases WHERE rack_id = $1 AND NOT (ip = ANY($2::inet[]))`, [
          rack,
          valid.map((e) => e.ip),
        ]);
      for (const e of valid) {
        if (e.action === 'commit') {
          await tx.query(
            `INSERT INTO dhcp_leases (ip, mac_address, hostname, subnet_id, rack_id, expires, updated)
             VALUES ($1::inet, $2::macaddr, $3, (SELECT id FROM subnets WHERE $1::inet << cidr ORDER BY masklen(cidr) DESC LIMIT 1), $4, $5, now())
             ON CONFLICT (ip) DO UPDATE SET mac_address = EXCLUDED.mac_address, hostname = EXCLUDED.hostname,
               subnet_id = EXCLUDED.subnet_id, rack_id = EXCLUDED.rack_id, expires = EXCLUDED.expires, updated = now()
             -- A lease table restates what this rack held: it never takes over a live lease that
             -- another rack (the secondary, during a failover) gave out since.
             WHERE NOT $6 OR dhcp_leases.rack_id IS NOT DISTINCT FROM EXCLUDED.rack_id OR dhcp_leases.expires < now()`,
            [e.ip, normaliseMac(e.mac), printable(e.hostname), rack, e.at, o.replace === true],
          );
        } else {
          await tx.query(`DELETE FROM dhcp_leases WHERE ip = $1::inet AND mac_address = $2::macaddr`, [
            e.ip,
            normaliseMac(e.mac),
          ]);
        }
      }
    });
    return { recorded: valid.length, skipped: events.length - valid.length };
  }

  private async rackId(systemId: string): Promise<number> {
    const rows: Array<{ id: number }> = await this.db.query(`SELECT id FROM racks WHERE system_id = $1`, [systemId]);
    if (!rows[0]) throw new NotFoundError(`No rack controller ${systemId}.`);
    return rows[0].id;
  }
}

interface Derived {
  ntpServers: string[];
  domain: string;
}

function toSubnetConfig(r: SubnetConfigRow, d: Derived): DhcpSubnetConfig {
  const ranges = r.ranges ?? [];
  return {
    subnetId: r.subnetId,
    cidr: r.cidr,
    gatewayIp: r.gatewayIp,
    dnsServers: r.dnsServers,
    ntpServers: d.ntpServers,
    domain: d.domain,
    domainSearch: [d.domain],
    mtu: r.mtu,
    staticRoutes: r.routes ?? [],
    dynamicRanges: ranges.filter((x) => x.type === 'dynamic').map(({ start, end }) => ({ start, end })),
    reservedRanges: ranges.filter((x) => x.type === 'reserved').map(({ start, end }) => ({ start, end })),
    fixed: r.fixed ?? [],
    leaseSeconds: LEASE_SECONDS,
  };
}

/** A client's hostname option may hold anything, NUL bytes included, which PostgreSQL text refuses. */
function printable(value: unknown): string {
  return [...String(value ?? '')]
    .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)
    .join('')
    .slice(0, 255);
}
