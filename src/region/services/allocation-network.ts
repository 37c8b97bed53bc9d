// The networking allocate constraints (subnets, not_subnets, fabrics, not_fabrics, vlans,
// not_vlans, spaces, not_spaces) and the per-interface ones of `interfaces=` (space, fabric,
// subnet, vid, mode, …: see resolveInterfaceNetwork). There is no interface↔subnet link table: a machine is attached to a subnet when one
// of its interfaces' MACs has a DHCP lease there (MAAS's DISCOVERED address) or a reserved IP there
// (USER_RESERVED); its fabrics and VLANs are those of its subnets. Specifiers are resolved to ids
// first (one query each, a 400 naming the field when one matches nothing, as MAAS's "No matching
// subnets found."); the machine filter is then plain SQL over `m` in the allocation query.
import { isIP as nodeIsIP } from 'node:net';
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../errors';
import type { InterfaceConstraint } from './allocation-constraints';
import { UNDEFINED_SPACE, UNDEFINED_SPACE_ID } from './network/spaces';

export interface NetworkConstraints {
  subnets: string[];
  notSubnets: string[];
  fabrics: string[];
  notFabrics: string[];
  vlans: string[];
  notVlans: string[];
  /** Optional: placement rules match subnets and VLANs only. */
  spaces?: string[];
  notSpaces?: string[];
}

export type NetworkField =
  | 'subnets'
  | 'not_subnets'
  | 'fabrics'
  | 'not_fabrics'
  | 'vlans'
  | 'not_vlans'
  | 'spaces'
  | 'not_spaces'
  | 'interfaces';

/** Ids each constraint resolved to. `subnets` and `vlans` need every id (as MAAS); the others any. */
export interface ResolvedNetwork {
  subnets: number[];
  notSubnets: number[];
  fabrics: number[];
  notFabrics: number[];
  vlans: number[];
  notVlans: number[];
  /** Space ids; UNDEFINED_SPACE_ID stands for VLANs in no space. */
  spaces: number[];
  notSpaces: number[];
}

type Kind = 'subnet' | 'vlan' | 'fabric' | 'space';
const PREFIXES: Record<Kind, Set<string>> = {
  subnet: new Set(['id', 'cidr', 'name', 'ip', 'vlan', 'vid', 'fabric']),
  vlan: new Set(['id', 'vid', 'name', 'fabric', 'subnet']),
  fabric: new Set(['id', 'name']),
  space: new Set(['id', 'name']),
};
const ALIAS: Record<Kind, string> = { subnet: 's', vlan: 'v', fabric: 'f', space: 'sp' };

/** An address PostgreSQL's inet takes: net.isIP also passes IPv6 zones (fe80::1%eth0), inet does not. */
const isIP = (v: string): number => (v.includes('%') ? 0 : nodeIsIP(v));

/** `10.0.0.0/24`, `fd00::/64` (host bits allowed: the subnet is the network). */
function isCidr(v: string): boolean {
  const slash = v.lastIndexOf('/');
  if (slash < 0) return false;
  const family = isIP(v.slice(0, slash));
  const len = v.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(len) && Number(len) <= (family === 4 ? 32 : 128);
}

const INT = /^\d{1,9}$/;

/**
 * A specifier as SQL over `s` (subnets), `v` (vlans), `f` (fabrics) — whichever `kind` selects
 * from, joined to the others. Values go into `params`.
 */
function specifierSql(kind: Kind, field: NetworkField, spec: string, params: unknown[]): string {
  const colon = spec.indexOf(':');
  const prefix = colon > 0 ? spec.slice(0, colon) : '';
  // An IPv6 address or CIDR has colons of its own: only a known prefix is a prefix.
  const [key, value] = PREFIXES[kind].has(prefix) ? [prefix, spec.slice(colon + 1)] : ['', spec];
  if (key === '' && colon > 0 && !isIP(spec) && !isCidr(spec))
    throw ValidationError.field(
      field,
      `Unknown ${field} specifier '${spec}' (${[...PREFIXES[kind]].map((p) => `${p}:`).join(', ')} or a bare value).`,
    );
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const bad = (why: string) => ValidationError.field(field, `Invalid ${field} specifier '${spec}': ${why}.`);
  const id = (column: string) => {
    if (!INT.test(value)) throw bad('not an id');
    return `${column} = ${p(Number(value))}::int`;
  };
  const byKey = (k: string): string => {
    switch (k) {
      case 'id':
        return id(`${ALIAS[kind]}.id`);
      case 'name':
        return `${ALIAS[kind]}.name = ${p(value)}`;
      case 'cidr':
        if (!isCidr(value)) throw bad('not a CIDR');
        return `s.cidr = network(${p(value)}::inet)`;
      case 'ip':
        if (!isIP(value)) throw bad('not an IP address');
        return `s.cidr >>= ${p(value)}::inet`;
      case 'vid':
        if (!INT.test(value)) throw bad('not a VID');
        return `v.vid = ${p(Number(value))}::int`;
      case 'vlan':
        return INT.test(value) ? `v.id = ${p(Number(value))}::int` : `v.name = ${p(value)}`;
      case 'fabric':
        return INT.test(value) ? `f.id = ${p(Number(value))}::int` : `f.name = ${p(value)}`;
      case 'subnet':
        return `v.id IN (SELECT s2.vlan_id FROM subnets s2 WHERE ${INT.test(value) ? `s2.id = ${p(Number(value))}::int` : isCidr(value) ? `s2.cidr = network(${p(value)}::inet)` : `s2.name = ${p(value)}`})`;
      default: {
        // A bare value: an id, then (subnets) a CIDR or an address, else a name.
        if (INT.test(value)) return byKey('id');
        if (kind === 'subnet' && isCidr(value)) return byKey('cidr');
        if (kind === 'subnet' && isIP(value)) return byKey('ip');
        return byKey('name');
      }
    }
  };
  return byKey(key);
}

const FROM: Record<Kind, string> = {
  subnet: 'SELECT s.id FROM subnets s JOIN vlans v ON v.id = s.vlan_id JOIN fabrics f ON f.id = v.fabric_id',
  vlan: 'SELECT v.id FROM vlans v JOIN fabrics f ON f.id = v.fabric_id',
  fabric: 'SELECT f.id FROM fabrics f',
  space: 'SELECT sp.id FROM spaces sp',
};
const PLURAL: Record<Kind, string> = { subnet: 'subnets', vlan: 'VLANs', fabric: 'fabrics', space: 'spaces' };

/** Specifiers → ids; one that matches nothing is a 400 on its field, naming it. */
async function resolveIds(db: EntityManager, kind: Kind, field: NetworkField, specs: string[]): Promise<number[]> {
  const ids = new Set<number>();
  for (const spec of specs) {
    // MAAS's "undefined" space (id -1): the VLANs in no space.
    if (kind === 'space' && [UNDEFINED_SPACE, String(UNDEFINED_SPACE_ID)].includes(spec.replace(/^(id|name):/, ''))) {
      ids.add(UNDEFINED_SPACE_ID);
      continue;
    }
    const params: unknown[] = [];
    const rows: Array<{ id: number }> = await db.query(
      `${FROM[kind]} WHERE ${specifierSql(kind, field, spec, params)}`,
      params,
    );
    if (rows.length === 0) throw ValidationError.field(field, `No matching ${PLURAL[kind]} found for '${spec}'.`);
    for (const r of rows) ids.add(Number(r.id));
  }
  return [...ids].sort((a, b) => a - b);
}

/** Every specifier → ids; one that matches nothing is a 400 on its field. */
export async function resolveNetwork(db: EntityManager, c: NetworkConstraints): Promise<ResolvedNetwork> {
  const resolve = (kind: Kind, field: NetworkField, specs: string[]) => resolveIds(db, kind, field, specs);
  return {
    subnets: await resolve('subnet', 'subnets', c.subnets),
    notSubnets: await resolve('subnet', 'not_subnets', c.notSubnets),
    fabrics: await resolve('fabric', 'fabrics', c.fabrics),
    notFabrics: await resolve('fabric', 'not_fabrics', c.notFabrics),
    vlans: await resolve('vlan', 'vlans', c.vlans),
    notVlans: await resolve('vlan', 'not_vlans', c.notVlans),
    spaces: await resolve('space', 'spaces', c.spaces ?? []),
    notSpaces: await resolve('space', 'not_spaces', c.notSpaces ?? []),
  };
}

/** The subnets machine `m` is attached to (one row per lease or reserved IP; may repeat). */
export function attachedSubnetsSql(m = 'm'): string {
  return `SELECT l.subnet_id FROM interfaces ai JOIN dhcp_leases l ON l.mac_address = ai.mac_address WHERE ai.machine_id = ${m}.id AND l.subnet_id IS NOT NULL
          UNION ALL SELECT r.subnet_id FROM interfaces ai JOIN reserved_ips r ON r.mac_address = ai.mac_address WHERE ai.machine_id = ${m}.id`;
}

/**
 * WHERE clauses over `m` for the resolved constraints, as in MAAS: attached to every subnet and
 * every VLAN given, to any fabric given, and to none of the not_* ones.
 */
export function networkWhereSql(r: ResolvedNetwork, add: (sql: (p: string) => string, value: unknown) => void): void {
  const attached = attachedSubnetsSql();
  const withVlans = `SELECT ns.id AS subnet_id, nv.id AS vlan_id, nv.fabric_id, COALESCE(nv.space_id, ${UNDEFINED_SPACE_ID}) AS space_id FROM subnets ns JOIN vlans nv ON nv.id = ns.vlan_id WHERE ns.id IN (${attached})`;
  if (r.subnets.length) add((p) => `ARRAY(${attached}) @> ${p}::int[]`, r.subnets);
  if (r.notSubnets.length)
    add(
      (p) => `NOT EXISTS (SELECT 1 FROM (${attached}) a(subnet_id) WHERE a.subnet_id = ANY(${p}::int[]))`,
      r.notSubnets,
    );
  if (r.vlans.length) add((p) => `ARRAY(SELECT vlan_id FROM (${withVlans}) a) @> ${p}::int[]`, r.vlans);
  if (r.notVlans.length)
    add((p) => `NOT EXISTS (SELECT 1 FROM (${withVlans}) a WHERE a.vlan_id = ANY(${p}::int[]))`, r.notVlans);
  if (r.fabrics.length)
    add((p) => `EXISTS (SELECT 1 FROM (${withVlans}) a WHERE a.fabric_id = ANY(${p}::int[]))`, r.fabrics);
  if (r.notFabrics.length)
    add((p) => `NOT EXISTS (SELECT 1 FROM (${withVlans}) a WHERE a.fabric_id = ANY(${p}::int[]))`, r.notFabrics);
  if (r.spaces.length) add((p) => `ARRAY(SELECT space_id FROM (${withVlans}) a) @> ${p}::int[]`, r.spaces);
  if (r.notSpaces.length)
    add((p) => `NOT EXISTS (SELECT 1 FROM (${withVlans}) a WHERE a.space_id = ANY(${p}::int[]))`, r.notSpaces);
}

export function describeNetwork(c: NetworkConstraints): string[] {
  const out: string[] = [];
  const entries: Array<[string, string[]]> = [
    ['subnets', c.subnets],
    ['not_subnets', c.notSubnets],
    ['fabrics', c.fabrics],
    ['not_fabrics', c.notFabrics],
    ['vlans', c.vlans],
    ['not_vlans', c.notVlans],
    ['spaces', c.spaces ?? []],
    ['not_spaces', c.notSpaces ?? []],
  ];
  for (const [k, v] of entries) if (v.length) out.push(`${k}=${v.join(',')}`);
  return out;
}

/** MAAS's link modes. metalflow's links are DHCP leases and reserved (fixed DHCP) addresses. */
const MODES = new Set(['auto', 'dhcp', 'static', 'link_up', 'unconfigured']);

/** One `interfaces=` label's networking keys, resolved: ids, VIDs, addresses, modes, tags. */
export interface ResolvedInterfaceNetwork {
  subnets: number[];
  notSubnets: number[];
  fabrics: number[];
  notFabrics: number[];
  vlans: number[];
  notVlans: number[];
  spaces: number[];
  notSpaces: number[];
  vids: number[];
  notVids: number[];
  ips: string[];
  modes: string[];
  tags: string[];
  notTags: string[];
}

/**
 * A label's networking keys → ids. A name that matches nothing is a 400 on `interfaces` naming
 * it and its label (Juju sends `interfaces=0:space=<space id>`).
 */
export async function resolveInterfaceNetwork(
  db: EntityManager,
  ic: InterfaceConstraint,
): Promise<ResolvedInterfaceNetwork> {
  const n = ic.network;
  const ids = async (kind: Kind, specs: string[] | undefined, prefix = '') => {
    try {
      return await resolveIds(
        db,
        kind,
        'interfaces',
        (specs ?? []).map((s) => prefix + s),
      );
    } catch (e) {
      if (e instanceof ValidationError)
        throw ValidationError.field('interfaces', `Label '${ic.label}': ${e.fields.interfaces!.join(' ')}`);
      throw e;
    }
  };
  const vids = (values: string[] | undefined) =>
    (values ?? []).map((v) => {
      if (!INT.test(v) || Number(v) > 4094)
        throw ValidationError.field('interfaces', `Label '${ic.label}': vid must be a VID (0-4094), not '${v}'.`);
      return Number(v);
    });
  const ips = (n.ip ?? []).map((v) => {
    if (!isIP(v)) throw ValidationError.field('interfaces', `Label '${ic.label}': ip '${v}' is not an IP address.`);
    return v;
  });
  const modes = (n.mode ?? []).map((v) => {
    const mode = v.toLowerCase();
    if (!MODES.has(mode))
      throw ValidationError.field(
        'interfaces',
        `Label '${ic.label}': unknown mode '${v}' (one of ${[...MODES].join(', ')}).`,
      );
    return mode;
  });
  return {
    subnets: [...(await ids('subnet', n.subnet)), ...(await ids('subnet', n.subnet_cidr, 'cidr:'))],
    notSubnets: [...(await ids('subnet', n.not_subnet)), ...(await ids('subnet', n.not_subnet_cidr, 'cidr:'))],
    fabrics: await ids('fabric', n.fabric),
    notFabrics: await ids('fabric', n.not_fabric),
    vlans: await ids('vlan', n.vlan),
    notVlans: await ids('vlan', n.not_vlan),
    spaces: await ids('space', n.space),
    notSpaces: await ids('space', n.not_space),
    vids: vids(n.vid),
    notVids: vids(n.not_vid),
    ips,
    modes,
    tags: n.tag ?? [],
    notTags: n.not_tag ?? [],
  };
}

/**
 * A label's networking keys as SQL over interface `i`: an interface is on the subnets where its
 * MAC holds a DHCP lease or a reserved IP, and on their VLANs, fabrics and spaces. Values of one
 * key are alternatives; keys must all hold (MAAS's specifier dicts). Values go into `params`.
 */
export function interfaceNetworkSql(r: ResolvedInterfaceNetwork, params: unknown[]): string[] {
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const addresses = `SELECT l.subnet_id, l.ip FROM dhcp_leases l WHERE l.mac_address = i.mac_address AND l.subnet_id IS NOT NULL
                     UNION ALL SELECT ri.subnet_id, ri.ip FROM reserved_ips ri WHERE ri.mac_address = i.mac_address`;
  const on = `SELECT ia.ip, ns.id AS subnet_id, nv.id AS vlan_id, nv.vid, nv.fabric_id, COALESCE(nv.space_id, ${UNDEFINED_SPACE_ID}) AS space_id
                FROM (${addresses}) ia JOIN subnets ns ON ns.id = ia.subnet_id JOIN vlans nv ON nv.id = ns.vlan_id`;
  const where: string[] = [];
  const anyOf = (column: string, values: unknown[], cast: string, negate = false) => {
    if (!values.length) return;
    where.push(
      `${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM (${on}) a WHERE a.${column} = ANY(${p(values)}::${cast}))`,
    );
  };
  anyOf('subnet_id', r.subnets, 'int[]');
  anyOf('subnet_id', r.notSubnets, 'int[]', true);
  anyOf('fabric_id', r.fabrics, 'int[]');
  anyOf('fabric_id', r.notFabrics, 'int[]', true);
  anyOf('vlan_id', r.vlans, 'int[]');
  anyOf('vlan_id', r.notVlans, 'int[]', true);
  anyOf('space_id', r.spaces, 'int[]');
  anyOf('space_id', r.notSpaces, 'int[]', true);
  anyOf('vid', r.vids, 'int[]');
  anyOf('vid', r.notVids, 'int[]', true);
  anyOf('ip', r.ips, 'inet[]');
  if (r.modes.length) {
    // A lease or a reserved (fixed DHCP) address is a DHCP link; no address at all, an unconfigured one.
    const dhcp = `EXISTS (${addresses})`;
    const alternatives = r.modes.map((m) =>
      m === 'dhcp' ? dhcp : m === 'link_up' || m === 'unconfigured' ? `NOT ${dhcp}` : 'FALSE',
    );
    where.push(`(${alternatives.join(' OR ')})`);
  }
  // metalflow's interfaces carry no tags: `tag` matches none, `not_tag` every interface.
  if (r.tags.length) where.push('FALSE');
  return where;
}
