// MAAS's DNS resource records (DNSData): CNAME, MX, NS, SRV, SSHFP, TXT on a DNS resource, created
// with the resource when its name is new. The rules that span a name (one CNAME, and a CNAME alone
// on its name, addresses included) are checked under the resource's row lock, so two concurrent
// creates cannot both pass them.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import {
  type DnsRecordRow,
  type DnsResourceRow,
  domainByKey,
  idOf,
  loadRecords,
  lockResource,
  type NameInput,
  RECORD_NOT_FOUND,
  resolveName,
} from './dns-rows';
import {
  CNAME_AND_OTHER_MSG,
  MULTI_CNAME_MSG,
  type RrType,
  validateResourceName,
  validateRrdata,
  validateRrtype,
} from './dns-validation';

export interface DnsRecordFilter {
  domain?: string;
  name?: string;
  rrtype?: string;
  fqdn?: string;
}

export interface DnsRecordInput extends NameInput {
  rrtype?: string;
  rrdata?: string;
  /** null clears it (the domain's TTL, then the default, applies). */
  ttl?: number | null;
}

export class DnsRecordService {
  constructor(private readonly db: DataSource) {}

  async list(f: DnsRecordFilter): Promise<DnsRecordRow[]> {
    const m = this.db.manager;
    let { name } = f;
    let domainId: number | undefined;
    if (f.domain === undefined && name === undefined && f.fqdn !== undefined) {
      const resolved = await resolveName(m, { fqdn: f.fqdn }, f.rrtype?.toUpperCase());
      name = resolved?.name;
      domainId = resolved?.domain.id;
    } else if (f.domain !== undefined) domainId = (await domainByKey(m, f.domain)).id;
    const params: unknown[] = [];
    const where: string[] = [];
    if (domainId !== undefined) where.push(`r.domain_id = $${params.push(domainId)}`);
    if (name !== undefined) where.push(`r.name = $${params.push(name.toLowerCase())}`);
    if (f.rrtype !== undefined) where.push(`x.rrtype = $${params.push(f.rrtype.toUpperCase())}`);
    return loadRecords(
      m,
      `${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.domain_id, r.name, x.id`,
      params,
    );
  }

  async get(key: string): Promise<DnsRecordRow> {
    const [row] = await loadRecords(this.db.manager, `WHERE x.id = $1`, [idOf(key, RECORD_NOT_FOUND)]);
    if (!row) throw new NotFoundError(RECORD_NOT_FOUND);
    return row;
  }

  /** MAAS's create: rrtype and rrdata required; the name's resource is made if it is new. */
  create(input: DnsRecordInput): Promise<DnsRecordRow> {
    if (input.rrtype === undefined) throw ValidationError.field('rrtype', 'rrtype must be provided.');
    if (input.rrdata === undefined) throw ValidationError.field('rrdata', 'rrdata must be provided.');
    const rrtype = validateRrtype(input.rrtype);
    const rrdata = input.rrdata;
    validateRrdata(rrtype, rrdata);
    return this.db.transaction(async (tx) => {
      const target = await resolveName(tx, input, rrtype);
      if (!target) throw ValidationError.field('__all__', 'Either name and domain (or fqdn) must be specified');
      validateResourceName(target.name, rrtype);
      await tx.query(
        `INSERT INTO dns_resources (name, domain_id) VALUES ($1, $2) ON CONFLICT (domain_id, name) DO NOTHING`,
        [target.name, target.domain.id],
      );
      const [{ id }] = (await tx.query(`SELECT id FROM dns_resources WHERE domain_id = $1 AND name = $2`, [
        target.domain.id,
        target.name,
      ])) as [{ id: number }];
      const resource = await lockResource(tx, id);
      checkCname(resource, rrtype, undefined);
      const [row] = (await tx.query(
        `INSERT INTO dns_data (resource_id, rrtype, rrdata, ttl) VALUES ($1, $2, $3, $4) RETURNING id`,
        [resource.id, rrtype, rrdata, input.ttl ?? null],
      )) as [{ id: number }];
      return recordById(tx, row.id);
    });
  }

  /** rrtype, rrdata, ttl of one record; the CNAME rules as on create. */
  update(key: string, input: DnsRecordInput): Promise<DnsRecordRow> {
    return this.db.transaction(async (tx) => {
      const current = await recordById(tx, idOf(key, RECORD_NOT_FOUND));
      const resource = await lockResource(tx, current.resourceId);
      const rrtype = input.rrtype === undefined ? (current.rrtype as RrType) : validateRrtype(input.rrtype);
      const rrdata = input.rrdata ?? current.rrdata;
      validateRrdata(rrtype, rrdata);
      validateResourceName(resource.name, rrtype);
      checkCname(resource, rrtype, current.id);
      await tx.query(`UPDATE dns_data SET rrtype = $2, rrdata = $3, ttl = $4, updated = now() WHERE id = $1`, [
        current.id,
        rrtype,
        rrdata,
        input.ttl === undefined ? current.ttl : input.ttl,
      ]);
      return recordById(tx, current.id);
    });
  }

  /** As MAAS: the resource goes too when it is left with no records and no addresses. */
  delete(key: string): Promise<void> {
    return this.db.transaction(async (tx) => {
      const current = await recordById(tx, idOf(key, RECORD_NOT_FOUND));
      const resource = await lockResource(tx, current.resourceId);
      await tx.query(`DELETE FROM dns_data WHERE id = $1`, [current.id]);
      if (resource.records.length === 1 && resource.ipAddresses.length === 0)
        await tx.query(`DELETE FROM dns_resources WHERE id = $1`, [resource.id]);
    });
  }
}

/** MAAS's DNSData.clean: a CNAME is alone on its name (no other records, no addresses), and one. */
function checkCname(resource: DnsResourceRow, rrtype: RrType, self: number | undefined): void {
  const others = resource.records.filter((r) => r.id !== self);
  const cnames = others.filter((r) => r.rrtype === 'CNAME').length;
  if (rrtype === 'CNAME') {
    if (others.length - cnames + resource.ipAddresses.length > 0)
      throw ValidationError.field('__all__', CNAME_AND_OTHER_MSG);
    if (cnames > 0) throw ValidationError.field('__all__', MULTI_CNAME_MSG);
  } else if (cnames > 0) throw ValidationError.field('__all__', CNAME_AND_OTHER_MSG);
}

async function recordById(m: EntityManager, id: number): Promise<DnsRecordRow> {
  const [row] = await loadRecords(m, `WHERE x.id = $1`, [id]);
  if (!row) throw new NotFoundError(RECORD_NOT_FOUND);
  return row;
}
