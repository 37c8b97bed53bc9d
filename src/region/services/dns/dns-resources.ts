// MAAS's DNS resources: a label in a domain, with A/AAAA records from its ip_addresses and its other
// records (dns-records.ts). Admins change them; users read them. With `all`, listings add the
// records MAAS derives from machines' and devices' addresses (dns-implicit.ts).
import { isIP } from 'node:net';
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import type { Principal } from '../principal';
import {
  domainByKey,
  type DnsResourceRow,
  idOf,
  loadResources,
  lockResource,
  type NameInput,
  RESOURCE_NOT_FOUND,
  resolveName,
} from './dns-rows';
import { implicitRecords, type ImplicitResource } from './dns-implicit';
import { CNAME_PRESENT_MSG, validateResourceName } from './dns-validation';

type User = Extract<Principal, { kind: 'user' }>;

/** Addresses one resource may hold: a request past it is refused, not truncated. */
export const MAX_RESOURCE_ADDRESSES = 64;

export interface DnsResourceFilter {
  domain?: string;
  name?: string;
  rrtype?: string;
  fqdn?: string;
  all: boolean;
}

export interface DnsResourceInput extends NameInput {
  /** null clears it (the domain's TTL, then the default, applies). */
  addressTtl?: number | null;
  /** MAAS's ip_addresses: whitespace-separated; undefined leaves them. */
  ipAddresses?: string;
}

const LABEL_TAKEN = 'Labels must be unique within their zone.';

export class DnsResourceService {
  constructor(private readonly db: DataSource) {}

  /** Explicit resources (by domain, then name) and, with `all`, the implicit ones of each domain first. */
  async list(caller: User, f: DnsResourceFilter): Promise<Array<DnsResourceRow | ImplicitResource>> {
    const m = this.db.manager;
    const { domain } = f;
    let { name } = f;
    const rrtype = f.rrtype?.toUpperCase();
    let domainId: number | undefined;
    if (domain === undefined && name === undefined && f.fqdn !== undefined) {
      const resolved = await resolveName(m, { fqdn: f.fqdn }, rrtype);
      name = resolved?.name;
      domainId = resolved?.domain.id;
    } else if (domain !== undefined) domainId = (await domainByKey(m, domain)).id;
    const params: unknown[] = [];
    const where: string[] = [];
    if (domainId !== undefined) where.push(`r.domain_id = $${params.push(domainId)}`);
    if (name !== undefined) where.push(`r.name = $${params.push(name.toLowerCase())}`);
    if (rrtype !== undefined) where.push(rrtypeSql(rrtype, () => `$${params.push(rrtype)}`));
    const ids: Array<{ id: number }> = await m.query(
      `SELECT r.id FROM dns_resources r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.domain_id, r.name`,
      params,
    );
    const explicit = await loadResources(
      m,
      ids.map((r) => r.id),
    );
    if (!f.all) return explicit;
    const implicit = await implicitRecords(m, caller, { domainId, name, rrtype });
    // MAAS yields each domain's implicit records before its explicit ones.
    const domains = [...new Set([...implicit.map((r) => r.domainId), ...explicit.map((r) => r.domainId)])].sort(
      (a, b) => a - b,
    );
    return domains.flatMap((d) => [
      ...implicit.filter((r) => r.domainId === d),
      ...explicit.filter((r) => r.domainId === d),
    ]);
  }

  async get(key: string): Promise<DnsResourceRow> {
    const [row] = await loadResources(this.db.manager, [idOf(key, RESOURCE_NOT_FOUND)]);
    if (!row) throw new NotFoundError(RESOURCE_NOT_FOUND);
    return row;
  }

  create(input: DnsResourceInput): Promise<DnsResourceRow> {
    const addresses = parseAddresses(input.ipAddresses);
    return this.db.transaction(async (tx) => {
      const target = await resolveName(tx, input, 'A');
      if (!target) throw ValidationError.field('name', 'This field is required.');
      validateResourceName(target.name, addresses.length ? 'A' : undefined);
      const inserted: Array<{ id: number }> = await tx.query(
        `INSERT INTO dns_resources (name, domain_id, address_ttl) VALUES ($1, $2, $3)
         ON CONFLICT (domain_id, name) DO NOTHING RETURNING id`,
        [target.name, target.domain.id, input.addressTtl ?? null],
      );
      if (!inserted[0]) throw ValidationError.field('__all__', LABEL_TAKEN);
      await setAddresses(tx, inserted[0].id, addresses);
      return (await loadResources(tx, [inserted[0].id]))[0]!;
    });
  }

  /** MAAS's DNSResourceForm on an instance: name, domain (or fqdn), address_ttl, ip_addresses. */
  async update(key: string, input: DnsResourceInput): Promise<DnsResourceRow> {
    try {
      return await this.updateOnce(key, input);
    } catch (err) {
      // A rename racing a create of the same label passes the check together; the index refuses one.
      if ((err as { constraint?: string }).constraint === 'dns_resources_domain_id_name_key')
        throw ValidationError.field('__all__', LABEL_TAKEN);
      throw err;
    }
  }

  private updateOnce(key: string, input: DnsResourceInput): Promise<DnsResourceRow> {
    const addresses = input.ipAddresses === undefined ? undefined : parseAddresses(input.ipAddresses);
    return this.db.transaction(async (tx) => {
      const resource = await lockResource(tx, idOf(key, RESOURCE_NOT_FOUND));
      const target = (await resolveName(
        tx,
        {
          fqdn: input.fqdn,
          name: input.name ?? (input.domain !== undefined ? resource.name : undefined),
          domain: input.domain,
        },
        'A',
      )) ?? { name: resource.name, domain: { id: resource.domainId, name: resource.domain } };
      const hasAddresses = (addresses ?? resource.ipAddresses).length > 0;
      validateResourceName(target.name, hasAddresses ? 'A' : undefined);
      if (target.name !== resource.name || target.domain.id !== resource.domainId) {
        const taken: unknown[] = await tx.query(
          `SELECT 1 FROM dns_resources WHERE domain_id = $1 AND name = $2 AND id <> $3`,
          [target.domain.id, target.name, resource.id],
        );
        if (taken.length) throw ValidationError.field('__all__', LABEL_TAKEN);
      }
      await tx.query(
        `UPDATE dns_resources SET name = $2, domain_id = $3, address_ttl = $4, updated = now() WHERE id = $1`,
        [
          resource.id,
          target.name,
          target.domain.id,
          input.addressTtl === undefined ? resource.addressTtl : input.addressTtl,
        ],
      );
      if (addresses !== undefined) {
        if (addresses.length && resource.records.some((r) => r.rrtype === 'CNAME'))
          throw ValidationError.field('__all__', CNAME_PRESENT_MSG);
        await tx.query(`DELETE FROM dns_resource_addresses WHERE resource_id = $1`, [resource.id]);
        await setAddresses(tx, resource.id, addresses);
      }
      return (await loadResources(tx, [resource.id]))[0]!;
    });
  }

  /** Its addresses and records go with it. */
  async delete(key: string): Promise<void> {
    const rows: unknown[] = await this.db.query(`DELETE FROM dns_resources WHERE id = $1 RETURNING id`, [
      idOf(key, RESOURCE_NOT_FOUND),
    ]);
    if (!rows.length) throw new NotFoundError(RESOURCE_NOT_FOUND);
  }
}

/** Resources that have a record of the type: addresses count as A or AAAA. */
function rrtypeSql(rrtype: string, param: () => string): string {
  if (rrtype === 'A' || rrtype === 'AAAA')
    return `EXISTS (SELECT 1 FROM dns_resource_addresses a WHERE a.resource_id = r.id AND family(a.ip) = ${rrtype === 'A' ? 4 : 6})`;
  return `EXISTS (SELECT 1 FROM dns_data x WHERE x.resource_id = r.id AND x.rrtype = ${param()})`;
}

/** ip_addresses as MAAS reads them: whitespace-separated addresses (metalflow has no address ids). */
function parseAddresses(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const values = raw.split(/[\s,]+/).filter((v) => v !== '');
  for (const v of values) {
    if (/^\d+$/.test(v))
      throw ValidationError.field('ip_addresses', `${v}: metalflow takes addresses here, not IP address ids.`);
    if (isIP(v) === 0) throw ValidationError.field('ip_addresses', `${v} is not a valid IP address.`);
  }
  if (values.length > MAX_RESOURCE_ADDRESSES)
    throw ValidationError.field('ip_addresses', `At most ${MAX_RESOURCE_ADDRESSES} addresses per DNS resource.`);
  return [...new Set(values)];
}

async function setAddresses(tx: EntityManager, resourceId: number, addresses: string[]): Promise<void> {
  if (addresses.length === 0) return;
  await tx.query(
    `INSERT INTO dns_resource_addresses (resource_id, ip) SELECT $1, unnest($2::inet[]) ON CONFLICT DO NOTHING`,
    [resourceId, addresses],
  );
}
