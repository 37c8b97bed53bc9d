// The web UI's machine list: the API's filter and visibility (machine-filter-sql, tenancy-sql),
// plus a free-text search, a sort order, counts per status and one page of views. Every sort is
// an ORDER BY with LIMIT over the filtered rows (PostgreSQL's top-N sort), tie-broken by id so
// pages never overlap. A page's rows are its columns only, read by that same query (the API's full
// views cost a dozen joins per page); bench/ui-list.ts measures it at 10,000 machines.
import type { DataSource } from 'typeorm';
import type { MachineStatus } from '../../contracts/lifecycle';
import { normaliseFilter, type MachineFilter } from './machine-filter';
import { filterSql, resolveFilter } from './machine-filter-sql';
import { visibilitySql } from './machine-queries';
import type { Principal } from './principal';
import { sqlCount } from './sql-count';

/** The sortable columns (MAAS's machine list headers) → their SQL; the joins they need are below. */
export const MACHINE_LIST_SORTS = {
  hostname: 'lower(m.hostname)',
  status: 'm.status',
  owner: 'u.username',
  pool: 'p.name',
  zone: 'z.name',
  cores: 'm.cpu_count',
  memory: 'm.memory',
  storage: 'm.storage',
} as const;
export type MachineListSort = keyof typeof MACHINE_LIST_SORTS;

/** Longest free-text search (longer is a 400: no name metalflow stores is longer). */
export const MACHINE_LIST_TEXT_MAX = 255;
/** Most rows one page (or one live-status read) may ask for. */
export const MACHINE_LIST_MAX_LIMIT = 500;

export interface MachineListQuery {
  filter: MachineFilter;
  /** Case-insensitive substring of hostname, system_id, architecture, owner, pool, zone or a tag. */
  text?: string;
  sort: MachineListSort;
  descending: boolean;
  limit: number;
  offset: number;
}

/** One row of the list: the columns it shows, read in the page's own query (no per-machine loads). */
export interface MachineListRow {
  systemId: string;
  hostname: string;
  status: MachineStatus;
  statusMessage: string | null;
  powerState: string;
  owner: string | null;
  pool: string | null;
  zone: string;
  cpuCount: number;
  /** MiB, as machines.memory. */
  memory: number;
  /** MB, as machines.storage (MAAS's unit). */
  storage: number;
}

export interface MachineListPage {
  /** Machines matching the whole query. */
  total: number;
  rows: MachineListRow[];
  /** Per status, the machines matching everything but the status filter (what a status link would show). */
  counts: Array<{ status: MachineStatus; count: number }>;
}

/** What the list's live updates read: the changing fields only, one light query. */
export interface MachineLiveRow {
  systemId: string;
  status: MachineStatus;
  statusMessage: string | null;
  powerState: string;
}

function textSql(text: string, params: unknown[]): string {
  params.push(text.toLowerCase());
  const t = `$${params.length}`;
  const has = (column: string) => `strpos(lower(${column}), ${t}) > 0`;
  return `(${has('m.hostname')} OR ${has('m.system_id')} OR ${has('m.architecture')}
    OR EXISTS (SELECT 1 FROM users tu WHERE tu.id = m.owner_id AND ${has('tu.username')})
    OR EXISTS (SELECT 1 FROM resource_pools tp WHERE tp.id = m.pool_id AND ${has('tp.name')})
    OR EXISTS (SELECT 1 FROM zones tz WHERE tz.id = m.zone_id AND ${has('tz.name')})
    OR EXISTS (SELECT 1 FROM machine_tags mt JOIN tags tt ON tt.id = mt.tag_id WHERE mt.machine_id = m.id AND ${has('tt.name')}))`;
}

export class MachineListQueries {
  constructor(
    /** The listing pool where there is one (see ListingResources). */
    private readonly db: DataSource,
  ) {}

  async page(caller: Principal | null, q: MachineListQuery): Promise<MachineListPage> {
    const checked = normaliseFilter(q.filter);
    const resolved = await resolveFilter(this.db.manager, checked);
    const { status, notStatus, ...rest } = resolved.filter;
    // Counts ignore the status filter (each status's link shows its own count); the page uses it.
    const countParams: unknown[] = [];
    const countWhere = [
      visibilitySql(caller, 'm', countParams),
      ...filterSql(rest, countParams, resolved.network),
      ...(q.text ? [textSql(q.text, countParams)] : []),
    ].join(' AND ');
    const params: unknown[] = [];
    const where = [
      visibilitySql(caller, 'm', params),
      ...filterSql({ ...rest, status, notStatus }, params, resolved.network),
      ...(q.text ? [textSql(q.text, params)] : []),
    ].join(' AND ');
    const direction = q.descending ? 'DESC' : 'ASC';
    // NULLS LAST either way: machines without an owner or pool stay at the end of the list.
    const order = `${MACHINE_LIST_SORTS[q.sort]} ${direction} NULLS LAST, m.id ${direction}`;
    const limit = Math.min(q.limit, MACHINE_LIST_MAX_LIMIT);
    const [counted, rows] = await Promise.all([
      this.db.query(
        `SELECT m.status, count(*)::int AS n FROM machines m WHERE ${countWhere} GROUP BY m.status`,
        countParams,
      ) as Promise<Array<{ status: number; n: number }>>,
      this.db.query(
        `SELECT m.system_id, m.hostname, m.status, m.status_message, m.power_state, u.username AS owner,
                p.name AS pool, z.name AS zone, m.cpu_count, m.memory, m.storage
           FROM machines m
           LEFT JOIN users u ON u.id = m.owner_id
           LEFT JOIN resource_pools p ON p.id = m.pool_id
           JOIN zones z ON z.id = m.zone_id
          WHERE ${where} ORDER BY ${order} LIMIT ${sqlCount(limit)} OFFSET ${sqlCount(q.offset)}`,
        params,
      ) as Promise<
        Array<{
          system_id: string;
          hostname: string;
          status: number;
          status_message: string | null;
          power_state: string;
          owner: string | null;
          pool: string | null;
          zone: string;
          cpu_count: number;
          memory: number;
          storage: number;
        }>
      >,
    ]);
    const counts = counted.map((r) => ({ status: r.status as MachineStatus, count: r.n }));
    const wanted = (s: MachineStatus) => (!status?.length || status.includes(s)) && !(notStatus ?? []).includes(s);
    const total = counts.filter((c) => wanted(c.status)).reduce((sum, c) => sum + c.count, 0);
    return {
      total,
      counts,
      rows: rows.map((r) => ({
        systemId: r.system_id,
        hostname: r.hostname,
        status: r.status as MachineStatus,
        statusMessage: r.status_message || null,
        powerState: r.power_state,
        owner: r.owner,
        pool: r.pool,
        zone: r.zone,
        cpuCount: Number(r.cpu_count),
        memory: Number(r.memory),
        storage: Number(r.storage),
      })),
    };
  }

  /** The live fields of the given machines the caller may see (others are left out, not refused). */
  async live(caller: Principal | null, systemIds: string[]): Promise<MachineLiveRow[]> {
    if (systemIds.length === 0) return [];
    const params: unknown[] = [systemIds.slice(0, MACHINE_LIST_MAX_LIMIT)];
    const rows = (await this.db.query(
      `SELECT m.system_id, m.status, m.status_message, m.power_state FROM machines m
        WHERE m.system_id = ANY($1::text[]) AND ${visibilitySql(caller, 'm', params)}`,
      params,
    )) as Array<{ system_id: string; status: number; status_message: string | null; power_state: string }>;
    return rows.map((r) => ({
      systemId: r.system_id,
      status: r.status as MachineStatus,
      statusMessage: r.status_message,
      powerState: r.power_state,
    }));
  }
}
