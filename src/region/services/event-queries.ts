// Reading machine events (MAAS's events/?op=query): only events of machines the caller may see,
// newest first, paged by event id. A deleted machine's events stay (machine_id NULL, with the
// hostname and system_id it had: migration 0012); admins see them, found by hostname or id.
import type { DataSource } from 'typeorm';
import { ValidationError } from '../errors';
import { visibilitySql } from './machine-queries';
import { isAdmin, type Principal } from './principal';
import { sqlCount } from './sql-count';

/** MAAS's LOGGING_LEVELS: Python's numbers, with AUDIT (0) below everything. */
export const EVENT_LEVELS = { AUDIT: 0, DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;
export type EventLevel = keyof typeof EVENT_LEVELS;
export const MAX_EVENTS = 1000;
export const DEFAULT_EVENTS = 100;

export interface EventFilter {
  hostname?: string[];
  macAddress?: string[];
  systemId?: string[];
  zone?: string[];
  agentName?: string[];
  domain?: string[];
  /** AUDIT selects audit events only; any other level selects that level and above (not AUDIT). */
  level: EventLevel;
}

/** At most one of before/after (event ids). */
export interface EventPage {
  limit: number;
  before?: number;
  after?: number;
}

export interface EventRow {
  id: number;
  /** Null when the machine has been deleted (MAAS shows `node: null`). */
  systemId: string | null;
  hostname: string;
  level: string;
  type: string;
  description: string;
  created: Date;
}

export function levelsFor(level: EventLevel): string[] {
  if (level === 'AUDIT') return ['AUDIT'];
  const min = EVENT_LEVELS[level];
  return (Object.keys(EVENT_LEVELS) as EventLevel[]).filter((l) => l !== 'AUDIT' && EVENT_LEVELS[l] >= min);
}

export class EventQueries {
  constructor(private readonly db: DataSource) {}

  /** Newest first. With `after`, the `limit` oldest events newer than it (still returned newest first). */
  async query(caller: Principal | null, f: EventFilter, page: EventPage): Promise<EventRow[]> {
    if (page.before !== undefined && page.after !== undefined) {
      const message = 'Give before or after, not both: there is undetermined behaviour when both are specified.';
      throw new ValidationError({ before: [message], after: [message] });
    }
    const params: unknown[] = [];
    // A deleted machine's events: admins only (nobody owns them any more).
    const where = [
      `(m.id IS NOT NULL AND ${visibilitySql(caller, 'm', params)} OR e.machine_id IS NULL AND ${isAdmin(caller)})`,
    ];
    const any = (sql: (p: string) => string, values: unknown[] | undefined, cast = 'text[]') => {
      if (!values || values.length === 0) return;
      params.push(values);
      where.push(sql(`$${params.length}::${cast}`));
    };
    any((p) => `(m.hostname = ANY(${p}) OR e.machine_id IS NULL AND e.node_hostname = ANY(${p}))`, f.hostname);
    any((p) => `(m.system_id = ANY(${p}) OR e.machine_id IS NULL AND e.node_system_id = ANY(${p}))`, f.systemId);
    any((p) => `m.agent_name = ANY(${p})`, f.agentName);
    any((p) => `m.domain = ANY(${p})`, f.domain);
    any((p) => `m.zone_id IN (SELECT id FROM zones WHERE name = ANY(${p}))`, f.zone);
    any(
      (p) => `EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ANY(${p}))`,
      f.macAddress,
      'macaddr[]',
    );
    any((p) => `e.level = ANY(${p})`, levelsFor(f.level));
    let order = 'DESC';
    if (page.before !== undefined) {
      params.push(page.before);
      where.push(`e.id < $${params.length}`);
    } else if (page.after !== undefined) {
      params.push(page.after);
      where.push(`e.id > $${params.length}`);
      order = 'ASC';
    }
    const rows: Array<{
      id: string;
      system_id: string | null;
      hostname: string;
      level: string;
      type: string;
      description: string;
      created: Date;
    }> = await this.db.query(
      `SELECT e.id, m.system_id, COALESCE(m.hostname, NULLIF(e.node_hostname, ''), 'unknown') AS hostname,
              e.level, e.type, e.description, e.created
         FROM events e LEFT JOIN machines m ON m.id = e.machine_id
        WHERE ${where.join(' AND ')}
        ORDER BY e.id ${order}
        LIMIT ${sqlCount(page.limit)}`,
      params,
    );
    const events = rows.map((r) => ({
      id: Number(r.id),
      systemId: r.system_id,
      hostname: r.hostname,
      level: r.level,
      type: r.type,
      description: r.description,
      created: r.created,
    }));
    return order === 'ASC' ? events.reverse() : events;
  }
}
