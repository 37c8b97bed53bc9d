// Reading machines with everything a presenter needs, in a fixed number of queries whatever the
// count (MAAS's listing is slow at scale because it does not).
import type { DataSource, EntityManager } from 'typeorm';
import { withCancellableConnection } from '../db/cancellable';
import { columnsOf, hydrate } from '../db/entity-rows';
import { MachineEntity, type Interface, type Machine, type Rack, type ResourcePool, type Zone } from '../db/entities';
import { NotFoundError } from '../errors';
import { domainRecordCountSql } from './domains';
import type { ListingLimiter } from './listing-limiter';
import { normaliseFilter, type MachineFilter } from './machine-filter';
import { filterSql, resolveFilter } from './machine-filter-sql';
import { isAdmin, type Principal } from './principal';
import { userVisibilitySql } from './tenancy-sql';
import type { MachineStorage } from './storage/model';
import { loadStorage } from './storage/repository';
import { loadMachineNics, type MachineNic } from './machine-network/model';
import type { OperationStep } from '../../contracts/workflows';
import { domainRefs, listedMachines, type ListedMachine } from './machine-listing-versions';
import { loadScriptStatuses, type MachineScriptStatuses } from './scripts/script-statuses';
import { queryAll } from './query-all';
import { loadLeaseLinks, type InterfaceLink } from './machine-lease-links';
import { sqlCount } from './sql-count';

export interface MachineView {
  machine: Machine;
  owner: string | null;
  /** `username`, `group:<name>`, or null (see reservations). */
  reservedFor: string | null;
  zone: Pick<Zone, 'id' | 'name' | 'description'>;
  pool: Pick<ResourcePool, 'id' | 'name' | 'description'> | null;
  tags: string[];
  interfaces: Interface[];
  /** Interface id → the addresses DHCP leased to its MAC (MAAS's DHCP links), each with its subnet. */
  links?: Map<number, InterfaceLink[]>;
  /** Interface id → the interface in MAAS's network model: VLAN, params, parents, configured links. */
  nics?: Map<number, MachineNic>;
  rack: Pick<Rack, 'systemId' | 'name'> | null;
  /** The machine's DNS domain (machines.domain names it). */
  domain?: DomainRef;
  /** Its storage model (migration 0016): block devices, partitions, filesystems, VGs, RAIDs. */
  storage?: MachineStorage;
  /**
   * Its running operation's step, from the workflow's step query: read for one machine only
   * (MachineOperations.read), never in listings; null when no operation answers.
   */
  operationStep?: OperationStep | null;
  /** MAAS's commissioning/testing status fields, from its current script sets (scripts/script-results.ts). */
  scriptStatuses?: MachineScriptStatuses;
}

export interface DomainRef {
  id: number;
  name: string;
  ttl: number | null;
  authoritative: boolean;
  isDefault: boolean;
  /** MAAS counts the domain's DNS records; here, the machines and devices in it. */
  resourceRecordCount: number;
}

/** A chunk of a versioned listing: its machines in order, and views of those the caller lacked. */
export interface VersionedChunk {
  /** Each one either known to the caller or in `views`. */
  machines: ListedMachine[];
  views: Map<number, MachineView>;
  /** Every listed machine's domain, read once for the whole listing. */
  domains: Map<string, DomainRef>;
}

export type { ListedMachine } from './machine-listing-versions';
export type { MachineFilter } from './machine-filter';
export { filterSql } from './machine-filter-sql';

/**
 * Users see their own machines and unassigned ones (neither owned nor reserved for someone else)
 * in pools they may view; admins see all (see tenancy-sql).
 */
export function visibilitySql(caller: Principal | null, alias = 'm', params: unknown[]): string {
  if (isAdmin(caller)) return 'TRUE';
  if (caller?.kind !== 'user') return 'FALSE';
  params.push(caller.user.id);
  return userVisibilitySql(alias, `$${params.length}`);
}

/**
 * Where listings read: their own capped pool (so they cannot starve authentication or workflow
 * activities of connections) and a per-caller limit. Absent, listings share the main pool.
 */
export interface ListingResources {
  db: DataSource;
  limiter?: ListingLimiter;
}

export class MachineQueries {
  private readonly listing: ListingResources;

  constructor(
    private readonly db: DataSource,
    listing?: ListingResources,
  ) {
    this.listing = listing ?? { db };
  }

  async list(
    caller: Principal | null,
    filter: MachineFilter = {},
    manager: EntityManager = this.db.manager,
  ): Promise<MachineView[]> {
    return this.views(await this.ids(caller, normaliseFilter(filter), manager), manager);
  }

  /**
   * The same listing in chunks, so a 10,000-machine answer is never held in memory at once: the
   * API streams each chunk out as it is read. Each query runs on the listing pool and is
   * cancelled in PostgreSQL when `signal` aborts (the client went away).
   */
  async *chunks(
    caller: Principal | null,
    filter: MachineFilter = {},
    o: { size?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<MachineView[]> {
    const size = o.size ?? 500;
    const checked = normaliseFilter(filter);
    const leave = await this.listing.limiter?.enter(callerKey(caller), o.signal);
    try {
      const read = <T>(work: (m: EntityManager) => Promise<T>) =>
        withCancellableConnection(this.listing.db, this.db, o.signal, work);
      const ids = await read((m) => this.ids(caller, checked, m));
      for (let i = 0; i < ids.length; i += size) yield await read((m) => this.views(ids.slice(i, i + size), m));
    } finally {
      leave?.();
    }
  }

  /**
   * chunks() for a caller that keeps what it made of each machine: the listing's machines come
   * with their versions (machine-listing-versions), and a chunk reads views only of the machines
   * `known` answers false for (it is asked once per machine, just before its chunk is read). On
   * the listing pool, cancellable and limited per caller as chunks() is.
   */
  async *versionedChunks(
    caller: Principal | null,
    filter: MachineFilter,
    o: { size?: number; signal?: AbortSignal; known: (m: ListedMachine) => boolean },
  ): AsyncGenerator<VersionedChunk> {
    const size = o.size ?? 500;
    const checked = normaliseFilter(filter);
    const leave = await this.listing.limiter?.enter(callerKey(caller), o.signal);
    try {
      const read = <T>(work: (m: EntityManager) => Promise<T>) =>
        withCancellableConnection(this.listing.db, this.db, o.signal, work);
      const { listed, domains } = await read(async (m) => {
        const resolved = await resolveFilter(m, checked);
        const params: unknown[] = [];
        const where = [visibilitySql(caller, 'm', params), ...filterSql(resolved.filter, params, resolved.network)];
        const machines = await listedMachines(m, where.join(' AND '), params);
        return { listed: machines, domains: await domainRefs(m, [...machines.domains]) };
      });
      for (let i = 0; i < listed.length; i += size) {
        const slice = listed.slice(i, i + size);
        const missing = new Set(slice.filter((x) => !o.known(x)).map((x) => x.id));
        const views = new Map(
          (missing.size ? await read((m) => this.views([...missing], m)) : []).map((v) => [v.machine.id, v]),
        );
        // The ids were read once, at the start: a machine deleted since then has no view now. It
        // is left out, as chunks() leaves it out, so every machine a chunk names is either known
        // or has its view (the API cannot present a machine it has neither of).
        const machines = slice.filter((x) => !missing.has(x.id) || views.has(x.id));
        yield { machines, views, domains };
      }
    } finally {
      leave?.();
    }
  }

  /** One page of the listing (LIMIT/OFFSET in SQL, by id) and how many machines match in all. */
  async page(
    caller: Principal | null,
    filter: MachineFilter,
    page: { limit: number; offset: number },
  ): Promise<{ total: number; views: MachineView[] }> {
    const db = this.listing.db;
    const resolved = await resolveFilter(db.manager, normaliseFilter(filter));
    const params: unknown[] = [];
    const where = [visibilitySql(caller, 'm', params), ...filterSql(resolved.filter, params, resolved.network)].join(
      ' AND ',
    );
    const [count, rows] = await Promise.all([
      db.query(`SELECT count(*)::int AS n FROM machines m WHERE ${where}`, params) as Promise<Array<{ n: number }>>,
      db.query(
        `SELECT m.id FROM machines m WHERE ${where} ORDER BY m.id LIMIT ${sqlCount(page.limit)} OFFSET ${sqlCount(page.offset)}`,
        params,
      ) as Promise<Array<{ id: number }>>,
    ]);
    return {
      total: count[0]!.n,
      views: await this.views(
        rows.map((r) => r.id),
        db.manager,
      ),
    };
  }

  private async ids(caller: Principal | null, filter: MachineFilter, manager: EntityManager): Promise<number[]> {
    const resolved = await resolveFilter(manager, filter);
    const params: unknown[] = [];
    const where = [visibilitySql(caller, 'm', params), ...filterSql(resolved.filter, params, resolved.network)];
    const rows: Array<{ id: number }> = await manager.query(
      `SELECT m.id FROM machines m WHERE ${where.join(' AND ')} ORDER BY m.id`,
      params,
    );
    return rows.map((r) => r.id);
  }

  /** One machine the caller may see, else 404 (what may not be seen does not exist). */
  async get(
    caller: Principal | null,
    systemId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<MachineView> {
    // The visibility check rides in the view's own statement: a hidden machine reads as none.
    const params: unknown[] = [systemId];
    const view = (
      await this.viewsWhere(`m.system_id = $1 AND ${visibilitySql(caller, 'm', params)}`, params, manager)
    )[0];
    if (!view) throw new NotFoundError('No Machine matches the given query.');
    return view;
  }

  /**
   * The machine's id if the caller may see it, else MAAS's 404: one query, for a caller that needs
   * no more (an action's visibility check; the full view costs five or more).
   */
  async visibleId(
    caller: Principal | null,
    systemId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<number> {
    const params: unknown[] = [systemId];
    const rows: Array<{ id: number }> = await manager.query(
      `SELECT m.id FROM machines m WHERE m.system_id = $1 AND ${visibilitySql(caller, 'm', params)}`,
      params,
    );
    if (!rows[0]) throw new NotFoundError('No Machine matches the given query.');
    return rows[0].id;
  }

  async views(ids: number[], manager: EntityManager = this.db.manager): Promise<MachineView[]> {
    if (ids.length === 0) return [];
    return this.viewsWhere('m.id = ANY($1::int[])', [ids], manager);
  }

  /** The views of the machines `where` picks (SQL on alias `m`, `$n` parameters), in id order. */
  private async viewsWhere(where: string, params: unknown[], manager: EntityManager): Promise<MachineView[]> {
    // One statement for the machine rows with the names they join in, their tags and their
    // domains' record counts (each domain's once: the counts walk every node of the domain).
    // Plain SQL, hydrated as TypeORM hydrates (entity-rows.ts): its query builder cost a listing
    // and every action's reply more than the read itself.
    const rows: Array<Record<string, unknown>> = await manager.query(
      `WITH counts AS MATERIALIZED (
         SELECT d.name, ${domainRecordCountSql('d.name')} AS n FROM domains d
          WHERE d.name IN (SELECT m.domain FROM machines m WHERE ${where})
       )
       SELECT ${columnsOf(manager, MachineEntity, 'm', 'm_')},
              u.username, COALESCE(ru.username, 'group:' || rg.name) AS reserved_for,
              z.id AS zone_id, z.name AS zone_name, z.description AS zone_description,
              p.id AS pool_id, p.name AS pool_name, p.description AS pool_description,
              r.system_id AS rack_system_id, r.name AS rack_name,
              d.id AS domain_id, d.ttl AS domain_ttl, d.authoritative AS domain_authoritative,
              d.is_default AS domain_is_default, COALESCE(c.n, 0) AS domain_records,
              ARRAY(SELECT t.name FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id
                     WHERE mt.machine_id = m.id ORDER BY t.name) AS tag_names
         FROM machines m JOIN zones z ON z.id = m.zone_id
         LEFT JOIN domains d ON d.name = m.domain
         LEFT JOIN counts c ON c.name = m.domain
         LEFT JOIN users u ON u.id = m.owner_id
         LEFT JOIN users ru ON ru.id = m.reserved_user_id
         LEFT JOIN user_groups rg ON rg.id = m.reserved_group_id
         LEFT JOIN resource_pools p ON p.id = m.pool_id
         LEFT JOIN racks r ON r.id = m.rack_id
        WHERE ${where} ORDER BY m.id`,
      params,
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.m_id));
    const [interfaces, links, storage] = await queryAll(manager, [
      () => loadMachineNics(manager, ids),
      () => loadLeaseLinks(manager, ids),
      () => loadStorage(manager, ids),
    ]);
    const scriptStatuses = await loadScriptStatuses(manager, ids);
    const nicsById = new Map([...interfaces.values()].flat().map((n) => [n.id, n]));
    return rows.map((n) => {
      const machine = hydrate(manager, MachineEntity, n, 'm_');
      return {
        machine,
        owner: (n.username as string | null) ?? null,
        reservedFor: (n.reserved_for as string | null) ?? null,
        zone: { id: Number(n.zone_id), name: String(n.zone_name), description: String(n.zone_description ?? '') },
        pool:
          n.pool_id === null
            ? null
            : { id: Number(n.pool_id), name: String(n.pool_name), description: String(n.pool_description ?? '') },
        tags: n.tag_names as string[],
        interfaces: interfaces.get(machine.id) ?? [],
        links,
        nics: nicsById,
        rack: n.rack_system_id === null ? null : { systemId: String(n.rack_system_id), name: String(n.rack_name) },
        domain: {
          id: Number(n.domain_id),
          name: machine.domain,
          ttl: n.domain_ttl === null ? null : Number(n.domain_ttl),
          authoritative: Boolean(n.domain_authoritative),
          isDefault: Boolean(n.domain_is_default),
          resourceRecordCount: Number(n.domain_records),
        },
        storage: storage.get(machine.id),
        scriptStatuses: scriptStatuses.get(machine.id),
      };
    });
  }
}

/** Whose listings count together for the per-caller limit. */
function callerKey(caller: Principal | null): string {
  if (caller?.kind === 'user') return `user:${caller.user.id}`;
  if (caller?.kind === 'machine') return `machine:${caller.machine.id}`;
  return 'anonymous';
}
