// MAAS's DNS domains. Machines and devices name theirs (machines.domain and devices.domain, foreign
// keys to domains.name, so a rename follows onto them and a domain in use cannot be deleted);
// exactly one is the default, which new nodes get and which cannot be deleted. `maas` (id 0) is the default at first.
// Serving DNS for them is another issue: here they are names, TTLs and a default.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../errors';
import { validateDomain } from './machine-validation';

export interface DomainRow {
  id: number;
  name: string;
  authoritative: boolean;
  ttl: number | null;
  isDefault: boolean;
  resourceRecordCount: number;
}

/**
 * MAAS's resource_record_count of the domain named by the SQL expression `name`: its nodes
 * (machines and devices) and its DNS resources' addresses and records. One definition, for
 * domains/ and for the domain object inside machine and device JSON.
 */
export const domainRecordCountSql = (name: string) =>
  `((SELECT count(*) FROM machines WHERE domain = ${name}) + (SELECT count(*) FROM devices WHERE domain = ${name})
    + (SELECT count(*) FROM dns_data x JOIN dns_resources r ON r.id = x.resource_id
        JOIN domains rd ON rd.id = r.domain_id WHERE rd.name = ${name})
    + (SELECT count(*) FROM dns_resource_addresses a JOIN dns_resources r ON r.id = a.resource_id
        JOIN domains rd ON rd.id = r.domain_id WHERE rd.name = ${name}))::int`;

export interface DomainInput {
  name?: string;
  authoritative?: boolean;
  /** null clears it (the domain then uses the global TTL). */
  ttl?: number | null;
}

/** MAAS's bounds on a domain's TTL (Domain.ttl's validators). */
export const TTL_MIN = 1;
export const TTL_MAX = 604800;

const SELECT = `
  SELECT d.id, d.name, d.authoritative, d.ttl, d.is_default AS "isDefault",
         ${domainRecordCountSql('d.name')} AS "resourceRecordCount"
    FROM domains d`;
const NOT_FOUND = 'No Domain matches the given query.';

export class DomainService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<DomainRow[]> {
    return this.db.query(`${SELECT} ORDER BY d.id`);
  }

  /** By id or by name (MAAS's get_domain_or_404 takes either). */
  async get(key: string, manager: EntityManager = this.db.manager): Promise<DomainRow> {
    const rows: DomainRow[] = /^\d{1,9}$/.test(key)
      ? await manager.query(`${SELECT} WHERE d.id = $1`, [Number(key)])
      : await manager.query(`${SELECT} WHERE d.name = $1`, [key]);
    if (!rows[0]) throw new NotFoundError(NOT_FOUND);
    return rows[0];
  }

  create(input: DomainInput): Promise<DomainRow> {
    if (input.name === undefined || input.name === '') throw ValidationError.field('name', 'This field is required.');
    const name = checkName(input.name);
    checkTtl(input.ttl);
    return this.db.transaction(async (tx) => {
      await assertFree(tx, name, -1);
      const [{ id }] = (await tx.query(
        `INSERT INTO domains (name, authoritative, ttl) VALUES ($1, $2, $3) RETURNING id`,
        [name, input.authoritative ?? true, input.ttl ?? null],
      )) as [{ id: number }];
      return this.get(String(id), tx);
    });
  }

  update(key: string, input: DomainInput): Promise<DomainRow> {
    const name = input.name === undefined ? undefined : checkName(input.name);
    checkTtl(input.ttl);
    return this.db.transaction(async (tx) => {
      const domain = await this.lock(tx, key);
      if (name !== undefined) await assertFree(tx, name, domain.id);
      // Renaming cascades onto machines.domain and devices.domain (ON UPDATE CASCADE).
      await tx.query(`UPDATE domains SET name = $2, authoritative = $3, ttl = $4, updated = now() WHERE id = $1`, [
        domain.id,
        name ?? domain.name,
        input.authoritative ?? domain.authoritative,
        input.ttl === undefined ? domain.ttl : input.ttl,
      ]);
      return this.get(String(domain.id), tx);
    });
  }

  /** MAAS refuses to delete the default domain, and (PROTECT) a domain machines or devices are in. */
  async delete(key: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const domain = await this.lock(tx, key);
      if (domain.isDefault)
        throw new ValidationError({ __all__: ['This domain is the default domain, it cannot be deleted.'] });
      const dnsResources: unknown[] = await tx.query(`SELECT 1 FROM dns_resources WHERE domain_id = $1 LIMIT 1`, [
        domain.id,
      ]);
      if (dnsResources.length)
        throw new ValidationError({
          __all__: [
            `Cannot delete some instances of model 'Domain' because they are referenced through protected foreign keys: 'DNSResource.domain'.`,
          ],
        });
      if (domain.resourceRecordCount > 0)
        throw new ValidationError({
          __all__: [
            `Cannot delete some instances of model 'Domain' because they are referenced through protected foreign keys: 'Node.domain'. (${domain.resourceRecordCount} machine(s) or device(s) are in domain ${domain.name}.)`,
          ],
        });
      await tx.query(`DELETE FROM domains WHERE id = $1`, [domain.id]);
    });
  }

  /** op=set_default: the domain new machines get. */
  setDefault(key: string): Promise<DomainRow> {
    return this.db.transaction(async (tx) => {
      const domain = await this.lock(tx, key);
      // Serialised on the current default's row, so two set_default calls cannot both clear it.
      await tx.query(`SELECT id FROM domains WHERE is_default FOR UPDATE`);
      await tx.query(`UPDATE domains SET is_default = false, updated = now() WHERE is_default AND id <> $1`, [
        domain.id,
      ]);
      await tx.query(`UPDATE domains SET is_default = true, updated = now() WHERE id = $1`, [domain.id]);
      return this.get(String(domain.id), tx);
    });
  }

  /** The row lock makes a delete wait for a rename of the same domain, and vice versa. */
  private async lock(tx: EntityManager, key: string): Promise<DomainRow> {
    const domain = await this.get(key, tx);
    await tx.query(`SELECT id FROM domains WHERE id = $1 FOR UPDATE`, [domain.id]);
    return this.get(String(domain.id), tx);
  }
}

/** The domain a machine gets when none is named. */
export async function defaultDomainName(tx: EntityManager): Promise<string> {
  const rows: Array<{ name: string }> = await tx.query(`SELECT name FROM domains WHERE is_default`);
  return rows[0]?.name ?? 'maas';
}

/** A machine's or device's `domain=`: a valid DNS name that names an existing domain (MAAS's choice field). */
export async function existingDomain(tx: EntityManager, value: string): Promise<string> {
  const name = validateDomain(value);
  const rows: unknown[] = await tx.query(`SELECT 1 FROM domains WHERE name = $1`, [name]);
  if (!rows.length)
    throw ValidationError.field('domain', `Select a valid choice. ${name} is not one of the available choices.`);
  return name;
}

function checkName(value: string): string {
  try {
    return validateDomain(value);
  } catch (e) {
    if (e instanceof ValidationError) throw ValidationError.field('name', `Invalid domain name: ${value}.`);
    throw e;
  }
}

function checkTtl(ttl: number | null | undefined): void {
  if (ttl !== undefined && ttl !== null && (ttl < TTL_MIN || ttl > TTL_MAX))
    throw ValidationError.field('ttl', `Ensure this value is between ${TTL_MIN} and ${TTL_MAX}.`);
}

async function assertFree(tx: EntityManager, name: string, id: number): Promise<void> {
  const taken: unknown[] = await tx.query(`SELECT 1 FROM domains WHERE name = $1 AND id <> $2`, [name, id]);
  if (taken.length) throw ValidationError.field('name', 'Domain with this Name already exists.');
}
