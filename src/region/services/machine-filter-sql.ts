// The machine listing's filter as SQL over `m`: one condition per field whatever the number of
// values (each field is compared once, as an array). Names that must exist (zones, pools, tags,
// owners, network specifiers) are looked up first, so a filter naming something that does not
// exist is a 400 naming the field, in MAAS's words, before the listing runs.
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../errors';
import { networkWhereSql, resolveNetwork, type ResolvedNetwork } from './allocation-network';
import type { MachineFilter } from './machine-filter';

/** What a filter resolves to besides itself: the network specifiers' ids. */
export interface ResolvedFilter {
  filter: MachineFilter;
  network: ResolvedNetwork | null;
}

const missing = (wanted: string[] | undefined, found: Set<string>) => (wanted ?? []).filter((n) => !found.has(n));

/** Checks that every zone, pool, tag and owner named exists, and resolves the network specifiers. */
export async function resolveFilter(db: EntityManager, f: MachineFilter): Promise<ResolvedFilter> {
  const names = async (sql: string, values: string[]) =>
    values.length
      ? new Set(((await db.query(sql, [values])) as Array<{ name: string }>).map((r) => r.name))
      : new Set<string>();
  const zones = [...(f.zone ?? []), ...(f.notInZone ?? [])];
  if (zones.length) {
    const found = await names(`SELECT name FROM zones WHERE name = ANY($1::text[])`, zones);
    for (const [field, values] of [
      ['zone', f.zone],
      ['not_in_zone', f.notInZone],
    ] as const) {
      const bad = missing(values, found);
      if (bad.length) throw ValidationError.field(field, `No such zone(s): ${bad.join(', ')}.`);
    }
  }
  const pools = [...(f.pool ?? []), ...(f.notInPool ?? [])];
  if (pools.length) {
    const found = await names(`SELECT name FROM resource_pools WHERE name = ANY($1::text[])`, pools);
    for (const [field, values] of [
      ['pool', f.pool],
      ['not_in_pool', f.notInPool],
    ] as const) {
      const bad = missing(values, found);
      if (bad.length) throw ValidationError.field(field, `No such pool(s): ${bad.join(', ')}.`);
    }
  }
  if (f.tags?.length) {
    const bad = missing(f.tags, await names(`SELECT name FROM tags WHERE name = ANY($1::text[])`, f.tags));
    if (bad.length) throw ValidationError.field('tags', `No such tag(s): ${bad.map((t) => `'${t}'`).join(', ')}.`);
  }
  if (f.owner?.length) {
    const bad = missing(
      f.owner,
      await names(`SELECT username AS name FROM users WHERE username = ANY($1::text[])`, f.owner),
    );
    if (bad.length) throw ValidationError.field('owner', `No such owner: '${bad[0]}'.`);
  }
  const n = f.network;
  const network =
    n && Object.values(n).some((v) => v && v.length)
      ? await resolveNetwork(db, {
          subnets: n.subnets ?? [],
          notSubnets: n.notSubnets ?? [],
          fabrics: n.fabrics ?? [],
          notFabrics: n.notFabrics ?? [],
          vlans: n.vlans ?? [],
          notVlans: n.notVlans ?? [],
        })
      : null;
  return { filter: f, network };
}

/** The filter as SQL conditions over `m` (values appended to `params`). */
export function filterSql(f: MachineFilter, params: unknown[], network: ResolvedNetwork | null = null): string[] {
  const where: string[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const any = (column: string, values: unknown[] | undefined, cast = 'text[]', negate = false) => {
    if (!values || values.length === 0) return;
    where.push(`${negate ? 'NOT ' : ''}(${column} = ANY(${p(values)}::${cast}))`);
  };
  const inNames = (column: string, table: string, nameColumn: string, values?: string[], negate = false) => {
    if (!values?.length) return;
    // A machine without one (no pool, no owner) is "not in" any of them.
    const sub = `SELECT id FROM ${table} WHERE ${nameColumn} = ANY(${p(values)}::text[])`;
    where.push(negate ? `(${column} IS NULL OR ${column} NOT IN (${sub}))` : `${column} IN (${sub})`);
  };
  any('m.hostname', f.hostname);
  any('m.hostname', f.notHostname, 'text[]', true);
  any('m.system_id', f.systemId);
  any('m.system_id', f.notSystemId, 'text[]', true);
  any('m.domain', f.domain);
  any('m.domain', f.notDomain, 'text[]', true);
  any('m.agent_name', f.agentName);
  any('m.agent_name', f.notAgentName, 'text[]', true);
  any('m.status', f.status, 'smallint[]');
  any('m.status', f.notStatus, 'smallint[]', true);
  any('m.architecture', f.arch);
  any('m.architecture', f.notArch, 'text[]', true);
  any('m.power_state', f.powerState);
  any('m.power_state', f.notPowerState, 'text[]', true);
  if (f.hostnameContains) where.push(`strpos(lower(m.hostname), ${p(f.hostnameContains.toLowerCase())}) > 0`);
  if (f.macAddress?.length)
    where.push(
      `EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ANY(${p(f.macAddress)}::macaddr[]))`,
    );
  inNames('m.zone_id', 'zones', 'name', f.zone);
  inNames('m.zone_id', 'zones', 'name', f.notInZone, true);
  inNames('m.pool_id', 'resource_pools', 'name', f.pool);
  inNames('m.pool_id', 'resource_pools', 'name', f.notInPool, true);
  inNames('m.owner_id', 'users', 'username', f.owner);
  inNames('m.owner_id', 'users', 'username', f.notOwner, true);
  if (f.tags?.length) {
    // Every tag (MAAS's AND), as one semi-join over the array: its cost does not grow per value.
    const tags = [...new Set(f.tags)];
    where.push(
      `m.id IN (SELECT mt.machine_id FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE t.name = ANY(${p(tags)}::text[]) GROUP BY mt.machine_id HAVING count(DISTINCT t.id) = ${tags.length})`,
    );
  }
  if (f.notTags?.length)
    where.push(
      `NOT EXISTS (SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id AND t.name = ANY(${p(f.notTags)}::text[]))`,
    );
  if (f.minCpuCount !== undefined) where.push(`m.cpu_count >= ${p(f.minCpuCount)}::float8`);
  if (f.minMemory !== undefined) where.push(`m.memory >= ${p(f.minMemory)}::float8`);
  if (f.minCpuSpeed !== undefined) where.push(`m.cpu_speed >= ${p(f.minCpuSpeed)}::float8`);
  if (f.minLinkSpeed !== undefined)
    where.push(
      `EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.link_speed >= ${p(f.minLinkSpeed)}::float8)`,
    );
  if (network) networkWhereSql(network, (sql, value) => where.push(sql(p(value))));
  return where;
}
