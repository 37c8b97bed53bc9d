// Placement rules: where a machine lands (pool, reservation) when it becomes READY, decided in the
// same transaction, under the same row lock, as that transition (transitions.ts calls
// applyPlacement from changeStatus, the one place a status changes). No one can see it READY and
// unassigned in between, which is the window MAAS's reservation model leaves open (an admin
// reserves a machine only after it is READY, by which time anyone may have allocated it). A
// machine is placed once: every transition to READY (commissioning, release, mark_fixed) tries
// the rules until one has matched; a machine that is already reserved is left as it is.
import type { DataSource, EntityManager } from 'typeorm';
import type { Machine } from '../db/entities';
import { NotFoundError, ValidationError } from '../errors';
import { attachedSubnetsSql, resolveNetwork } from './allocation-network';
import { recordEvent } from './events';
import { resolveReservation } from './reservation-target';

/** What a rule looks at: all given criteria must hold (hardware facts are minimums). */
export interface PlacementMatch {
  pool?: string;
  zone?: string;
  tags?: string[];
  /** `amd64` matches `amd64/generic` (MAAS's arch wildcards). */
  arch?: string;
  cpu_count?: number;
  mem?: number;
  hostname_prefix?: string;
  /** Subnet / VLAN ids the machine must be attached to, all of them (allocate's `subnets`/`vlans`). */
  subnets?: number[];
  vlans?: number[];
}

export interface PlacementRule {
  id: number;
  name: string;
  priority: number;
  match: PlacementMatch;
  pool: string | null;
  reservedFor: string | null;
}

export interface PlacementRuleInput {
  name?: string;
  priority?: number;
  /** `subnets`/`vlans` come as specifiers (`match_subnets`, `match_vlans`) and are stored as ids. */
  match: Omit<PlacementMatch, 'subnets' | 'vlans'>;
  matchSubnets?: string[];
  matchVlans?: string[];
  pool?: string;
  reservedFor?: string;
}

export interface MachineFacts {
  pool: string | null;
  zone: string;
  tags: string[];
  arch: string;
  cpuCount: number;
  memory: number;
  hostname: string;
  /** Subnets (and their VLANs) the machine is attached to, as allocate decides it. */
  subnets: number[];
  vlans: number[];
}

export function ruleMatches(match: PlacementMatch, f: MachineFacts): boolean {
  if (match.pool !== undefined && match.pool !== f.pool) return false;
  if (match.zone !== undefined && match.zone !== f.zone) return false;
  if (match.tags && !match.tags.every((t) => f.tags.includes(t))) return false;
  if (match.arch !== undefined && f.arch !== match.arch && !f.arch.startsWith(`${match.arch}/`)) return false;
  if (match.cpu_count !== undefined && f.cpuCount < match.cpu_count) return false;
  if (match.mem !== undefined && f.memory < match.mem) return false;
  if (match.hostname_prefix !== undefined && !f.hostname.startsWith(match.hostname_prefix)) return false;
  if (match.subnets && !match.subnets.every((id) => f.subnets.includes(id))) return false;
  if (match.vlans && !match.vlans.every((id) => f.vlans.includes(id))) return false;
  return true;
}

const RULES_SQL = `
  SELECT r.id, r.name, r.priority, r.match, p.name AS pool, COALESCE(u.username, 'group:' || g.name) AS reserved_for,
         r.pool_id, r.reserved_user_id, r.reserved_group_id
    FROM placement_rules r
    LEFT JOIN resource_pools p ON p.id = r.pool_id
    LEFT JOIN users u ON u.id = r.reserved_user_id
    LEFT JOIN user_groups g ON g.id = r.reserved_group_id`;
interface RuleRow {
  id: number;
  name: string;
  priority: number;
  match: PlacementMatch;
  pool: string | null;
  reserved_for: string | null;
  pool_id: number | null;
  reserved_user_id: number | null;
  reserved_group_id: number | null;
}
const toRule = (r: RuleRow): PlacementRule => ({
  id: r.id,
  name: r.name,
  priority: r.priority,
  match: r.match,
  pool: r.pool,
  reservedFor: r.reserved_for,
});

export class PlacementService {
  constructor(private readonly db: DataSource) {}

  async list(): Promise<PlacementRule[]> {
    return ((await this.db.query(`${RULES_SQL} ORDER BY r.priority DESC, r.id`)) as RuleRow[]).map(toRule);
  }

  async get(id: string): Promise<PlacementRule> {
    const rows: RuleRow[] = /^\d{1,9}$/.test(id)
      ? await this.db.query(`${RULES_SQL} WHERE r.id = $1`, [Number(id)])
      : [];
    if (!rows[0]) throw new NotFoundError('No PlacementRule matches the given query.');
    return toRule(rows[0]);
  }

  async create(input: PlacementRuleInput): Promise<PlacementRule> {
    if (!input.name) throw ValidationError.field('name', 'This field is required.');
    if (!input.pool && !input.reservedFor)
      throw new ValidationError({ __all__: ['A rule must set a pool, reserved_for, or both.'] });
    return this.db.transaction(async (tx) => {
      const pools: Array<{ id: number }> = input.pool
        ? await tx.query(`SELECT id FROM resource_pools WHERE name = $1`, [input.pool])
        : [];
      if (input.pool && !pools[0]) throw ValidationError.field('pool', `No resource pool '${input.pool}'.`);
      if (input.match.pool) {
        const known: unknown[] = await tx.query(`SELECT 1 FROM resource_pools WHERE name = $1`, [input.match.pool]);
        if (!known.length) throw ValidationError.field('match_pool', `No resource pool '${input.match.pool}'.`);
      }
      const match: PlacementMatch = {
        ...input.match,
        ...(await resolveMatchNetwork(tx, input.matchSubnets ?? [], input.matchVlans ?? [])),
      };
      const target = await resolveReservation(tx, input.reservedFor ?? '');
      const rows: Array<{ id: number }> = await tx.query(
        `INSERT INTO placement_rules (name, priority, match, pool_id, reserved_user_id, reserved_group_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id`,
        [input.name, input.priority ?? 0, JSON.stringify(match), pools[0]?.id ?? null, target.userId, target.groupId],
      );
      if (!rows[0]) throw ValidationError.field('name', 'Placement rule with this Name already exists.');
      return toRule(((await tx.query(`${RULES_SQL} WHERE r.id = $1`, [rows[0].id])) as RuleRow[])[0]!);
    });
  }

  async delete(id: string): Promise<void> {
    const rule = await this.get(id);
    await this.db.query(`DELETE FROM placement_rules WHERE id = $1`, [rule.id]);
  }
}

/** Subnet/VLAN specifiers as allocate takes them → ids; one matching nothing is a 400 on match_<field>. */
async function resolveMatchNetwork(
  tx: EntityManager,
  subnets: string[],
  vlans: string[],
): Promise<Pick<PlacementMatch, 'subnets' | 'vlans'>> {
  try {
    const r = await resolveNetwork(tx, { subnets, notSubnets: [], fabrics: [], notFabrics: [], vlans, notVlans: [] });
    return { ...(r.subnets.length ? { subnets: r.subnets } : {}), ...(r.vlans.length ? { vlans: r.vlans } : {}) };
  } catch (err) {
    if (err instanceof ValidationError)
      throw new ValidationError(Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [`match_${k}`, v])));
    throw err;
  }
}

/**
 * Called by changeStatus for every transition to READY, with the machine locked, before the
 * status is written. Applies the first matching rule (highest priority, then oldest) to a machine
 * no rule has placed yet and nobody has reserved; returns what it changed.
 */
export async function applyPlacement(tx: EntityManager, m: Machine): Promise<Partial<Machine>> {
  const rules: RuleRow[] = await tx.query(`${RULES_SQL} ORDER BY r.priority DESC, r.id`);
  if (rules.length === 0) return {};
  const facts: Array<{ pool: string | null; zone: string; tags: string[]; subnets: number[]; vlans: number[] }> =
    await tx.query(
      `SELECT p.name AS pool, z.name AS zone,
            ARRAY(SELECT t.name FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id) AS tags,
            ARRAY(SELECT DISTINCT a.subnet_id FROM (${attachedSubnetsSql('m')}) a(subnet_id)) AS subnets,
            ARRAY(SELECT DISTINCT s.vlan_id FROM subnets s WHERE s.id IN (${attachedSubnetsSql('m')})) AS vlans
       FROM machines m JOIN zones z ON z.id = m.zone_id LEFT JOIN resource_pools p ON p.id = m.pool_id
      WHERE m.id = $1 AND NOT m.placed AND m.reserved_user_id IS NULL AND m.reserved_group_id IS NULL`,
      [m.id],
    );
  const f = facts[0];
  if (!f) return {};
  const rule = rules.find((r) =>
    ruleMatches(r.match, { ...f, arch: m.architecture, cpuCount: m.cpuCount, memory: m.memory, hostname: m.hostname }),
  );
  if (!rule) return {};
  const rows: Array<{ pool_id: number | null; reserved_user_id: number | null; reserved_group_id: number | null }> =
    await tx.query(
      `UPDATE machines SET pool_id = COALESCE($2, pool_id), reserved_user_id = $3, reserved_group_id = $4, placed = true, updated = now()
      WHERE id = $1 RETURNING pool_id, reserved_user_id, reserved_group_id`,
      [m.id, rule.pool_id, rule.reserved_user_id, rule.reserved_group_id],
    );
  const what = [rule.pool ? `pool ${rule.pool}` : '', rule.reserved_for ? `reserved for ${rule.reserved_for}` : '']
    .filter(Boolean)
    .join(', ');
  await recordEvent(tx, m.id, { type: 'Placed', description: `Placement rule ${rule.name}: ${what}.`, level: 'AUDIT' });
  const r = rows[0]!;
  return { poolId: r.pool_id, reservedUserId: r.reserved_user_id, reservedGroupId: r.reserved_group_id };
}
