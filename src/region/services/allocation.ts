// Allocation by constraints. Candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent
// allocations run in parallel and never get the same machine (MAAS serialises them all on one
// advisory lock instead).
import type { DataSource } from 'typeorm';
import { MachineStatus as S } from '../../contracts/lifecycle';
import { ConflictError, ValidationError } from '../errors';
import { recordEvent } from './events';
import { validateArchitecture } from './machine-validation';
import type { Principal } from './principal';
import { changeStatus, lockMachine } from './transitions';

export interface AllocateConstraints {
  name?: string;
  systemId?: string;
  arch?: string;
  cpuCount?: number;
  mem?: number;
  tags: string[];
  notTags: string[];
  zone?: string;
  notInZone: string[];
  pool?: string;
  notInPool: string[];
  agentName?: string;
  comment?: string;
  dryRun: boolean;
}

export class AllocationService {
  constructor(private readonly db: DataSource) {}

  /** Returns the allocated machine's system_id (or, with dry_run, the one that would be). */
  async allocate(caller: Principal, c: AllocateConstraints): Promise<string> {
    if (caller.kind !== 'user') throw new ConflictError('Only users can allocate machines.');
    await this.assertNamesExist(c);
    const params: unknown[] = [S.READY, caller.user.id];
    const where = ['m.status = $1', 'NOT m.locked', '(m.owner_id IS NULL OR m.owner_id = $2)'];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (c.name) add((p) => `(m.hostname = ${p} OR m.hostname || '.' || m.domain = ${p})`, c.name);
    if (c.systemId) add((p) => `m.system_id = ${p}`, c.systemId);
    if (c.arch) add((p) => `m.architecture = ${p}`, validateArchitecture(c.arch));
    if (c.cpuCount !== undefined) add((p) => `m.cpu_count >= ${p}::numeric`, c.cpuCount);
    if (c.mem !== undefined) add((p) => `m.memory >= ${p}::numeric`, c.mem);
    for (const tag of c.tags) add((p) => `EXISTS (SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id AND t.name = ${p})`, tag);
    if (c.notTags.length) add((p) => `NOT EXISTS (SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id AND t.name = ANY(${p}::text[]))`, c.notTags);
    if (c.zone) add((p) => `m.zone_id = (SELECT id FROM zones WHERE name = ${p})`, c.zone);
    if (c.notInZone.length) add((p) => `m.zone_id NOT IN (SELECT id FROM zones WHERE name = ANY(${p}::text[]))`, c.notInZone);
    if (c.pool) add((p) => `m.pool_id = (SELECT id FROM resource_pools WHERE name = ${p})`, c.pool);
    if (c.notInPool.length) add((p) => `m.pool_id NOT IN (SELECT id FROM resource_pools WHERE name = ANY(${p}::text[]))`, c.notInPool);

    return this.db.transaction(async (tx) => {
      // Machines reserved for the caller first, then unowned ones; cheapest first as MAAS orders.
      const candidates = (lock: string): Promise<Array<{ system_id: string }>> =>
        tx.query(
          `SELECT m.system_id FROM machines m WHERE ${where.join(' AND ')}
            ORDER BY (m.owner_id IS NULL), (m.cpu_count + m.memory / 1024.0), m.id
            LIMIT 1 ${lock}`,
          params,
        );
      // A dry run locks nothing. A real one skips machines other allocations hold; if that leaves
      // nothing, a machine may only be held for a moment by another kind of change (an edit, a
      // transition), so wait for it once instead of answering "No machine available" too early.
      let rows = c.dryRun ? await candidates('') : await candidates('FOR NO KEY UPDATE OF m SKIP LOCKED');
      if (!rows[0] && !c.dryRun) rows = await candidates('FOR NO KEY UPDATE OF m');
      const found = rows[0];
      if (!found) throw new ConflictError(describeNoMatch(c));
      if (c.dryRun) return found.system_id;
      const machine = await lockMachine(tx, found.system_id);
      await changeStatus(tx, machine, {
        to: S.ALLOCATED,
        extra: { ownerId: caller.user.id, agentName: c.agentName ?? '' },
        event: { description: `Allocated to ${caller.user.username}.` },
      });
      if (c.comment) await recordEvent(tx, machine.id, { type: 'Allocated', description: c.comment, level: 'AUDIT' });
      return found.system_id;
    });
  }

  private async assertNamesExist(c: AllocateConstraints): Promise<void> {
    const missing = async (table: string, names: string[]) => {
      if (names.length === 0) return [];
      const rows: Array<{ name: string }> = await this.db.query(`SELECT name FROM ${table} WHERE name = ANY($1::text[])`, [names]);
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

function describeNoMatch(c: AllocateConstraints): string {
  const parts: string[] = [];
  if (c.name) parts.push(`name=${c.name}`);
  if (c.systemId) parts.push(`system_id=${c.systemId}`);
  if (c.arch) parts.push(`arch=${c.arch}`);
  if (c.cpuCount !== undefined) parts.push(`cpu_count=${c.cpuCount}`);
  if (c.mem !== undefined) parts.push(`mem=${c.mem}`);
  if (c.tags.length) parts.push(`tags=${c.tags.join(',')}`);
  if (c.notTags.length) parts.push(`not_tags=${c.notTags.join(',')}`);
  if (c.zone) parts.push(`zone=${c.zone}`);
  if (c.pool) parts.push(`pool=${c.pool}`);
  return parts.length ? `No available machine matches constraints: ${parts.join(' ')}` : 'No machine available.';
}
