// Allocation by constraints (MAAS's op=allocate). Candidates are locked with FOR NO KEY UPDATE SKIP
// LOCKED, so concurrent allocations run in parallel and never get the same machine (MAAS serialises
// them all on one advisory lock instead). A caller gets a machine reserved for them (or their
// group) first, then an unassigned one, cheapest first (cpu_count + memory/1024, as MAAS).
import type { DataSource, EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../contracts/lifecycle';
import { transactionRetryingDeadlocks } from '../db/deadlock-retry';
import type { BlockDevice } from '../db/entities';
import { ConflictError, ValidationError } from '../errors';
import {
  matchStorage,
  storageByLabel,
  type InterfaceConstraint,
  type StorageConstraint,
} from './allocation-constraints';
import {
  describeNetwork,
  interfaceNetworkSql,
  networkWhereSql,
  resolveInterfaceNetwork,
  resolveNetwork,
  type NetworkConstraints,
  type ResolvedInterfaceNetwork,
} from './allocation-network';
import { recordEvent } from './events';
import { ARCHITECTURES } from './machine-validation';
import { isAdmin, type Principal } from './principal';
import { reservationAllowsSql, reservedToSql, userMayTakeSql } from './tenancy-sql';
import { changeStatus, lockMachine } from './transitions';

export interface AllocateConstraints extends NetworkConstraints {
  /** The request's parameters as given (but op), which MAAS quotes when nothing matches. */
  given?: Array<[string, string[]]>;
  name?: string;
  systemId?: string;
  /** Any of these; `amd64` stands for every `amd64/…` (MAAS's wildcards). */
  arch: string[];
  cpuCount?: number;
  cpuSpeed?: number;
  mem?: number;
  tags: string[];
  notTags: string[];
  zone?: string;
  notInZone: string[];
  pool?: string;
  notInPool: string[];
  storage: StorageConstraint[];
  interfaces: InterfaceConstraint[];
  agentName?: string;
  comment?: string;
  dryRun: boolean;
  verbose: boolean;
}

export interface Allocation {
  systemId: string;
  /** MAAS's `constraints_by_type`: storage/interfaces label → matched ids (+ verbose_* maps). */
  constraintsByType: Record<string, unknown>;
}

/**
 * A machine's physical disks to match storage constraints against, the boot disk first: the
 * storage tables (migration 0016), whose ids and tags blockdevices/ shows and Juju looks up from
 * constraints_by_type; else the list its last hardware report stored.
 */
const DISKS_SQL = `COALESCE((SELECT jsonb_agg(jsonb_build_object('id', sd.id, 'size', sd.size, 'tags', to_jsonb(sd.tags))
    ORDER BY sd.is_boot DESC, sd.id) FROM storage_block_devices sd WHERE sd.machine_id = m.id AND sd.type = 'physical'), m.block_devices)`;

/** How many candidates to lock at once when a match must be checked row by row (storage). */
const BATCH = 20;

export class AllocationService {
  constructor(private readonly db: DataSource) {}

  async allocate(caller: Principal, c: AllocateConstraints): Promise<Allocation> {
    if (caller.kind !== 'user') throw new ConflictError('Only users can allocate machines.');
    await this.assertNamesExist(c);
    const params: unknown[] = [S.READY, caller.user.id];
    const where = [
      'm.status = $1',
      'NOT m.locked',
      isAdmin(caller)
        ? `(m.owner_id IS NULL OR m.owner_id = $2) AND ${reservationAllowsSql('m', '$2')}`
        : userMayTakeSql('m', '$2'),
    ];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (c.name) add((p) => `(m.hostname = ${p} OR m.hostname || '.' || m.domain = ${p})`, c.name);
    if (c.systemId) add((p) => `m.system_id = ${p}`, c.systemId);
    if (c.arch.length)
      add(
        (p) => `(m.architecture = ANY(${p}::text[]) OR split_part(m.architecture, '/', 1) = ANY(${p}::text[]))`,
        archNames(c.arch),
      );
    if (c.cpuCount !== undefined) add((p) => `m.cpu_count >= ${p}::numeric`, c.cpuCount);
    if (c.cpuSpeed !== undefined) add((p) => `m.cpu_speed >= ${p}::numeric`, c.cpuSpeed);
    if (c.mem !== undefined) add((p) => `m.memory >= ${p}::numeric`, c.mem);
    for (const tag of c.tags)
      add(
        (p) =>
          `EXISTS (SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id AND t.name = ${p})`,
        tag,
      );
    if (c.notTags.length)
      add(
        (p) =>
          `NOT EXISTS (SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id AND t.name = ANY(${p}::text[]))`,
        c.notTags,
      );
    if (c.zone) add((p) => `m.zone_id = (SELECT id FROM zones WHERE name = ${p})`, c.zone);
    if (c.notInZone.length)
      add((p) => `m.zone_id NOT IN (SELECT id FROM zones WHERE name = ANY(${p}::text[]))`, c.notInZone);
    if (c.pool) add((p) => `m.pool_id = (SELECT id FROM resource_pools WHERE name = ${p})`, c.pool);
    if (c.notInPool.length)
      add((p) => `m.pool_id NOT IN (SELECT id FROM resource_pools WHERE name = ANY(${p}::text[]))`, c.notInPool);
    // Storage: each constraint needs a fitting device (the first on the root disk); the exact
    // one-device-per-constraint match is checked per candidate below.
    for (const [i, s] of c.storage.entries()) {
      const fits = (d: string) =>
        `(${d}->>'size')::numeric >= ${s.sizeBytes} AND COALESCE(${d}->'tags', '[]'::jsonb) @> ${lit(JSON.stringify(s.tags))}::jsonb`;
      where.push(
        i === 0
          ? `(${fits(`(${DISKS_SQL}->0)`)})`
          : `EXISTS (SELECT 1 FROM jsonb_array_elements(${DISKS_SQL}) WITH ORDINALITY d(v, n) WHERE n > 1 AND ${fits('d.v')})`,
      );
    }
    // Each label needs an interface matching all its keys (its networking keys resolved first).
    const labels: Array<[InterfaceConstraint, ResolvedInterfaceNetwork]> = [];
    for (const ic of c.interfaces) labels.push([ic, await resolveInterfaceNetwork(this.db.manager, ic)]);
    for (const [ic, net] of labels) {
      const sql = interfaceSql(ic, net, params);
      where.push(`EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND ${sql})`);
    }
    // subnets/fabrics/vlans (and not_*): resolved to ids, then matched in this same query.
    networkWhereSql(await resolveNetwork(this.db.manager, c), add);
    const checkRows = c.storage.length > 1;

    return transactionRetryingDeadlocks(this.db, async (tx) => {
      const pick = async (
        lock: string,
      ): Promise<{ systemId: string; id: number; storage: Map<number, string> | null } | undefined> => {
        const rejected: number[] = [];
        for (;;) {
          const rows: Array<{ id: number; system_id: string; block_devices: BlockDevice[] }> = await tx.query(
            `SELECT m.id, m.system_id, ${DISKS_SQL} AS block_devices FROM machines m
              WHERE ${where.join(' AND ')} AND m.id <> ALL($${params.length + 1}::int[])
              ORDER BY (${reservedToSql('m', '$2')}) IS TRUE DESC, (m.cpu_count + m.memory / 1024.0), m.id
              LIMIT ${checkRows ? BATCH : 1} ${lock}`,
            [...params, rejected],
          );
          if (rows.length === 0) return undefined;
          for (const r of rows) {
            const storage = c.storage.length ? matchStorage(r.block_devices, c.storage) : null;
            if (!c.storage.length || storage) return { systemId: r.system_id, id: r.id, storage };
            rejected.push(r.id);
          }
        }
      };
      // A dry run locks nothing. A real one skips machines other allocations hold; if that leaves
      // nothing, a machine may only be held for a moment by another kind of change (an edit, a
      // transition), so wait for it once instead of answering "No machine available" too early.
      // That wait keeps the locks of the machines it passed over (taken meanwhile) and takes them
      // in best-fit order, not the id order of a rack's power report, so PostgreSQL may end a
      // cycle by failing this transaction: it then runs again (transactionRetryingDeadlocks).
      let found = c.dryRun ? await pick('') : await pick('FOR NO KEY UPDATE OF m SKIP LOCKED');
      if (!found && !c.dryRun) found = await pick('FOR NO KEY UPDATE OF m');
      if (!found) throw new ConflictError(describeNoMatch(c));
      const constraintsByType = await this.constraintsByType(tx, found, c, labels);
      if (c.dryRun) return { systemId: found.systemId, constraintsByType };
      const machine = await lockMachine(tx, found.systemId);
      await changeStatus(tx, machine, {
        to: S.ALLOCATED,
        extra: { ownerId: caller.user.id, agentName: c.agentName ?? '' },
        event: { description: `Allocated to ${caller.user.username}.` },
      });
      if (c.comment) await recordEvent(tx, machine.id, { type: 'Allocated', description: c.comment, level: 'AUDIT' });
      return { systemId: found.systemId, constraintsByType };
    });
  }

  private async constraintsByType(
    tx: EntityManager,
    found: { id: number; storage: Map<number, string> | null },
    c: AllocateConstraints,
    labels: Array<[InterfaceConstraint, ResolvedInterfaceNetwork]>,
  ): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    if (found.storage && found.storage.size > 0) out.storage = storageByLabel(found.storage);
    if (labels.length) {
      // Juju reads its interface bindings from here: label → the matching interfaces' ids.
      const byLabel: Record<string, number[]> = {};
      for (const [ic, net] of labels) {
        const params: unknown[] = [found.id];
        const rows: Array<{ id: number }> = await tx.query(
          `SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE i.machine_id = $1 AND ${interfaceSql(ic, net, params)} ORDER BY i.id`,
          params,
        );
        byLabel[ic.label] = rows.map((r) => r.id);
      }
      out.interfaces = byLabel;
      if (c.verbose)
        out.verbose_interfaces = Object.fromEntries(
          Object.entries(byLabel).map(([label, ids]) => [label, { [found.id]: ids }]),
        );
    }
    // MAAS's verbose maps cover every matching machine; here, the one chosen.
    if (c.verbose && c.storage.length)
      out.verbose_storage = found.storage ? { [found.id]: Object.fromEntries(found.storage) } : {};
    return out;
  }

  private async assertNamesExist(c: AllocateConstraints): Promise<void> {
    const missing = async (table: string, names: string[]) => {
      if (names.length === 0) return [];
      const rows: Array<{ name: string }> = await this.db.query(
        `SELECT name FROM ${table} WHERE name = ANY($1::text[])`,
        [names],
      );
      const found = new Set(rows.map((r) => r.name));
      return names.filter((n) => !found.has(n));
    };
    const tags = await missing('tags', [...c.tags, ...c.notTags]);
    if (tags.length) throw ValidationError.field('tags', `No such tag(s): ${tags.map((t) => `'${t}'`).join(', ')}.`);
    const zones = await missing('zones', [...(c.zone ? [c.zone] : []), ...c.notInZone]);
    if (zones.length) throw ValidationError.field('zone', `No such zone(s): ${zones.join(', ')}.`);
    const pools = await missing('resource_pools', [...(c.pool ? [c.pool] : []), ...c.notInPool]);
    if (pools.length) throw ValidationError.field('pool', `No such pool(s): ${pools.join(', ')}.`);
  }
}

/** `amd64`, `amd64/generic`; juju's `arm` means armhf (as in MAAS). Unknown names are a 400. */
function archNames(values: string[]): string[] {
  const primaries = new Set(ARCHITECTURES.map((a) => a.split('/')[0]!));
  return values.map((v) => {
    const name = v === 'arm' ? 'armhf' : v;
    if (!ARCHITECTURES.includes(name) && !primaries.has(name))
      throw ValidationError.field('arch', `Architecture '${v}' not recognised.`);
    return name;
  });
}

/** One interfaces label as SQL over `i` (and `m` for hostname); values go into `params`. */
function interfaceSql(ic: InterfaceConstraint, net: ResolvedInterfaceNetwork, params: unknown[]): string {
  const parts = ['TRUE'];
  const any = (column: string, values: unknown[], cast: string) => {
    if (!values.length) return;
    params.push(values);
    parts.push(`${column} = ANY($${params.length}::${cast})`);
  };
  any('i.id', ic.ids, 'int[]');
  any('i.name', ic.names, 'text[]');
  any('i.type', ic.types, 'text[]');
  any('m.hostname', ic.hostnames, 'text[]');
  if (ic.linkSpeed !== undefined) {
    params.push(ic.linkSpeed);
    parts.push(`i.link_speed >= $${params.length}`);
  }
  parts.push(...interfaceNetworkSql(net, params));
  return parts.join(' AND ');
}

/** A JSON literal for SQL (storage tags come from the form, so quote them). */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

function describeNoMatch(c: AllocateConstraints): string {
  const parts: string[] = [];
  if (c.name) parts.push(`name=${c.name}`);
  if (c.systemId) parts.push(`system_id=${c.systemId}`);
  if (c.arch.length) parts.push(`arch=${c.arch.join(',')}`);
  if (c.cpuCount !== undefined) parts.push(`cpu_count=${c.cpuCount}`);
  if (c.cpuSpeed !== undefined) parts.push(`cpu_speed=${c.cpuSpeed}`);
  if (c.mem !== undefined) parts.push(`mem=${c.mem}`);
  if (c.tags.length) parts.push(`tags=${c.tags.join(',')}`);
  if (c.notTags.length) parts.push(`not_tags=${c.notTags.join(',')}`);
  if (c.zone) parts.push(`zone=${c.zone}`);
  if (c.notInZone.length) parts.push(`not_in_zone=${c.notInZone.join(',')}`);
  if (c.pool) parts.push(`pool=${c.pool}`);
  if (c.notInPool.length) parts.push(`not_in_pool=${c.notInPool.join(',')}`);
  if (c.storage.length)
    parts.push(
      `storage=${c.storage.map((s) => `${s.label ? `${s.label}:` : ''}${s.sizeBytes / 1000 ** 3}${s.tags.length ? `(${s.tags.join(',')})` : ''}`).join(',')}`,
    );
  if (c.interfaces.length) parts.push(`interfaces=${c.interfaces.map(describeLabel).join(';')}`);
  parts.push(...describeNetwork(c));
  // MAAS's NodesNotAvailable (api/machines.py allocate): the constraints as sent (Python's repr of
  // request.data.lists()) and as resolved (Juju-like, by name).
  if (parts.length === 0) return 'No machine available.';
  if (c.systemId) return `No machine with system ID ${c.systemId} available.`;
  const resolved = parts.sort().join(' ');
  return `No available machine matches constraints: ${pyRepr(c.given ?? [])} (resolved to "${resolved}")`;
}

/** Python's repr() of a list of (name, [values]) tuples, as MAAS's message prints it. */
function pyRepr(given: Array<[string, string[]]>): string {
  const str = (s: string) =>
    s.includes("'") && !s.includes('"')
      ? `"${s.replaceAll('\\', '\\\\')}"`
      : `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `[${given.map(([n, vs]) => `(${str(n)}, [${vs.map(str).join(', ')}])`).join(', ')}]`;
}

/** A label and its networking keys, as given (`0:space=dmz`). */
function describeLabel(ic: InterfaceConstraint): string {
  const keys = Object.entries(ic.network).flatMap(([k, values]) => values.map((v) => `${k}=${v}`));
  return keys.length ? `${ic.label}:${keys.join(',')}` : ic.label;
}
