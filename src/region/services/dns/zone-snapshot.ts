// Everything the DNS server answers, read from the database in one repeatable-read transaction, so
// a zone never mixes two states of the data: domains, the address and other records of MAAS's DNS
// resources, nodes' implicit addresses, the subnets whose reverse zones metalflow serves, and the
// settings named is configured from. TTLs are resolved as MAAS resolves them: the record's (a
// resource's address_ttl for its addresses), else its domain's, else DEFAULT_DNS_TTL.
import type { DataSource } from 'typeorm';
import { nodeAddressesSql } from './dns-implicit';
import { DEFAULT_DNS_TTL } from './dns-validation';

export type DnssecValidation = 'auto' | 'yes' | 'no';

export interface SnapshotDomain {
  name: string;
  authoritative: boolean;
  ttl: number;
  isDefault: boolean;
}

export interface SnapshotRecord {
  domain: string;
  /** Relative to the domain: '@' is the apex. */
  name: string;
  rrtype: string;
  rrdata: string;
  ttl: number;
}

export interface DnsSnapshot {
  domains: SnapshotDomain[];
  /** A/AAAA records (rrdata is the address); each also gets a PTR when its subnet is known. */
  addresses: SnapshotRecord[];
  /** CNAME, MX, NS, SRV, SSHFP, TXT. */
  records: SnapshotRecord[];
  subnets: string[];
  upstreamDns: string[];
  dnssecValidation: DnssecValidation;
}

export class DnsSnapshotService {
  constructor(private readonly db: DataSource) {}

  read(): Promise<DnsSnapshot> {
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const domains: SnapshotDomain[] = await tx.query(
        `SELECT name, authoritative, COALESCE(ttl, $1)::int AS ttl, is_default AS "isDefault" FROM domains ORDER BY name`,
        [DEFAULT_DNS_TTL],
      );
      const resourceAddresses: SnapshotRecord[] = await tx.query(
        `SELECT d.name AS domain, r.name, CASE family(a.ip) WHEN 4 THEN 'A' ELSE 'AAAA' END AS rrtype,
                host(a.ip) AS rrdata, COALESCE(r.address_ttl, d.ttl, $1)::int AS ttl
           FROM dns_resource_addresses a JOIN dns_resources r ON r.id = a.resource_id
           JOIN domains d ON d.id = r.domain_id`,
        [DEFAULT_DNS_TTL],
      );
      const nodeAddresses: SnapshotRecord[] = await tx.query(
        `WITH nodes AS (${nodeAddressesSql('TRUE', 'TRUE')})
         SELECT d.name AS domain, n.hostname AS name, CASE family(n.ip) WHEN 4 THEN 'A' ELSE 'AAAA' END AS rrtype,
                host(n.ip) AS rrdata, COALESCE(d.ttl, $1)::int AS ttl
           FROM nodes n JOIN domains d ON d.name = n.domain
          WHERE n.ip IS NOT NULL`,
        [DEFAULT_DNS_TTL],
      );
      const records: SnapshotRecord[] = await tx.query(
        `SELECT d.name AS domain, r.name, x.rrtype, x.rrdata, COALESCE(x.ttl, d.ttl, $1)::int AS ttl
           FROM dns_data x JOIN dns_resources r ON r.id = x.resource_id JOIN domains d ON d.id = r.domain_id
          ORDER BY d.name, r.name, x.rrtype, x.id`,
        [DEFAULT_DNS_TTL],
      );
      const subnets: Array<{ cidr: string }> = await tx.query(`SELECT cidr::text AS cidr FROM subnets ORDER BY cidr`);
      const settings: Array<{ name: string; value: unknown }> = await tx.query(
        `SELECT name, value FROM config WHERE name IN ('upstream_dns', 'dnssec_validation')`,
      );
      const setting = (name: string) => settings.find((s) => s.name === name)?.value;
      const upstream = setting('upstream_dns');
      const dnssec = setting('dnssec_validation');
      const byName = (a: SnapshotRecord, b: SnapshotRecord) =>
        a.domain.localeCompare(b.domain) || a.name.localeCompare(b.name) || a.rrdata.localeCompare(b.rrdata);
      return {
        domains,
        addresses: [...resourceAddresses, ...nodeAddresses].sort(byName),
        records,
        subnets: subnets.map((s) => s.cidr),
        upstreamDns: typeof upstream === 'string' ? upstream.split(/\s+/).filter(Boolean) : [],
        dnssecValidation: dnssec === 'yes' || dnssec === 'no' ? dnssec : 'auto',
      };
    });
  }

  /** The next SOA serial: a sequence, so it only grows, across restarts and region processes. */
  async nextSerial(): Promise<number> {
    const [{ serial }] = (await this.db.query(`SELECT nextval('dns_zone_serial')::bigint AS serial`)) as [
      { serial: string },
    ];
    return Number(serial);
  }
}
