// Loading DNS resources and their records, and resolving the domain/name a request names: shared by
// the resources and the records services.
import type { EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import { fqdnOf, normaliseFqdn, separateFqdn } from './dns-validation';

export interface DnsRecordRow {
  id: number;
  resourceId: number;
  fqdn: string;
  rrtype: string;
  rrdata: string;
  ttl: number | null;
}

export interface DnsResourceRow {
  id: number;
  name: string;
  domainId: number;
  domain: string;
  fqdn: string;
  addressTtl: number | null;
  ipAddresses: string[];
  records: DnsRecordRow[];
}

export const RESOURCE_NOT_FOUND = 'No DNSResource matches the given query.';
export const RECORD_NOT_FOUND = 'No DNSData matches the given query.';
const DOMAIN_NOT_FOUND = 'No Domain matches the given query.';

/** The resources with these ids, in that order, each with its addresses and records. */
export async function loadResources(m: EntityManager, ids: number[]): Promise<DnsResourceRow[]> {
  if (ids.length === 0) return [];
  const rows: Array<{ id: number; name: string; domain_id: number; domain: string; address_ttl: number | null }> =
    await m.query(
      `SELECT r.id, r.name, r.domain_id, d.name AS domain, r.address_ttl
         FROM dns_resources r JOIN domains d ON d.id = r.domain_id WHERE r.id = ANY($1::int[])`,
      [ids],
    );
  const addresses: Array<{ resource_id: number; ip: string }> = await m.query(
    `SELECT resource_id, host(ip) AS ip FROM dns_resource_addresses WHERE resource_id = ANY($1::int[]) ORDER BY ip`,
    [ids],
  );
  const records = await loadRecords(m, `WHERE x.resource_id = ANY($1::int[]) ORDER BY x.rrtype, x.id`, [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => {
    const r = byId.get(id);
    if (!r) return [];
    return [
      {
        id: r.id,
        name: r.name,
        domainId: r.domain_id,
        domain: r.domain,
        fqdn: fqdnOf(r.name, r.domain),
        addressTtl: r.address_ttl,
        ipAddresses: addresses.filter((a) => a.resource_id === id).map((a) => a.ip),
        records: records.filter((x) => x.resourceId === id),
      },
    ];
  });
}

/** Records with a WHERE/ORDER BY over `x` (dns_data), `r` (its resource), `d` (its domain). */
export async function loadRecords(m: EntityManager, tail: string, params: unknown[]): Promise<DnsRecordRow[]> {
  const rows: Array<{ id: number; resource_id: number; name: string; domain: string } & DnsRecordRow> = await m.query(
    `SELECT x.id, x.resource_id, r.name, d.name AS domain, x.rrtype, x.rrdata, x.ttl
         FROM dns_data x JOIN dns_resources r ON r.id = x.resource_id JOIN domains d ON d.id = r.domain_id ${tail}`,
    params,
  );
  return rows.map((x) => ({
    id: x.id,
    resourceId: x.resource_id,
    fqdn: fqdnOf(x.name, x.domain),
    rrtype: x.rrtype,
    rrdata: x.rrdata,
    ttl: x.ttl,
  }));
}

/** A domain by id or name (MAAS's get_domain_or_404 takes either), or a 404. */
export async function domainByKey(m: EntityManager, key: string): Promise<{ id: number; name: string }> {
  const rows: Array<{ id: number; name: string }> = /^\d{1,9}$/.test(key)
    ? await m.query(`SELECT id, name FROM domains WHERE id = $1`, [Number(key)])
    : await m.query(`SELECT id, name FROM domains WHERE name = $1`, [normaliseFqdn(key)]);
  if (!rows[0]) throw new NotFoundError(DOMAIN_NOT_FOUND);
  return rows[0];
}

export interface NameInput {
  fqdn?: string;
  name?: string;
  domain?: string;
}

/**
 * The (name, domain) a request names, as MAAS reads it: `name` and `domain` win; `fqdn` is split
 * only when neither is given. A missing domain with a name is the default domain.
 */
export async function resolveName(
  m: EntityManager,
  input: NameInput,
  rrtype: string | undefined,
): Promise<{ name: string; domain: { id: number; name: string } } | undefined> {
  if (input.name === undefined && input.domain === undefined) {
    if (input.fqdn === undefined) return undefined;
    const isDomain = (await m.query(`SELECT 1 FROM domains WHERE name = $1`, [normaliseFqdn(input.fqdn)])).length > 0;
    const splits = separateFqdn(input.fqdn, rrtype, isDomain);
    if (!splits.length) throw ValidationError.field('fqdn', `Invalid fqdn: ${input.fqdn}.`);
    for (const split of splits.slice(0, -1)) {
      const known: Array<{ id: number; name: string }> = await m.query(`SELECT id, name FROM domains WHERE name = $1`, [
        split.domain,
      ]);
      if (known[0]) return { name: split.name, domain: known[0] };
    }
    const last = splits.at(-1)!;
    return { name: last.name, domain: await domainByKey(m, last.domain) };
  }
  if (input.name === undefined) return undefined;
  const domain =
    input.domain === undefined
      ? ((await m.query(`SELECT id, name FROM domains WHERE is_default`)) as Array<{ id: number; name: string }>)[0]
      : await domainByKey(m, input.domain);
  if (!domain) throw new NotFoundError(DOMAIN_NOT_FOUND);
  return { name: input.name.toLowerCase(), domain };
}

/** The resource row, locked for the rest of the transaction (its records' rules read under it). */
export async function lockResource(m: EntityManager, id: number): Promise<DnsResourceRow> {
  const rows: unknown[] = await m.query(`SELECT id FROM dns_resources WHERE id = $1 FOR UPDATE`, [id]);
  const [resource] = rows.length ? await loadResources(m, [id]) : [];
  if (!resource) throw new NotFoundError(RESOURCE_NOT_FOUND);
  return resource;
}

/** A path's {id}: digits, or a 404 as for an id that does not exist. */
export function idOf(key: string, notFound: string): number {
  if (!/^\d{1,9}$/.test(key)) throw new NotFoundError(notFound);
  return Number(key);
}
