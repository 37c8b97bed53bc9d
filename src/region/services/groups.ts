// User groups (MAAS 3.8's user-group): a team is a group of users, each with their own API keys;
// groups hold entitlements on resource pools (view, deploy, admin) and can have machines reserved
// for them. Admin-only to change; members may read their own groups.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../errors';
import { parsePoolSpecifier } from './pools';
import { ENTITLEMENTS, type Entitlement } from './tenancy-sql';
import { checkModelName } from './zones';
import { retryingDeadlocks } from '../db/deadlock-retry';

export interface Group {
  id: number;
  name: string;
  description: string;
  members: string[];
}
export interface GroupEntitlement {
  resourceType: 'pool';
  resourceId: number;
  resourceName: string;
  entitlement: Entitlement;
}

const NOT_FOUND = 'No UserGroup matches the given query.';

export class GroupService {
  constructor(private readonly db: DataSource) {}

  /** All groups, or (for a non-admin) the groups `memberId` belongs to. */
  async list(memberId?: number): Promise<Group[]> {
    const rows: Array<{ id: number; name: string; description: string; members: string[] }> = await this.db.query(
      `SELECT g.id, g.name, g.description,
              COALESCE(array_agg(u.username ORDER BY u.username) FILTER (WHERE u.id IS NOT NULL), '{}') AS members
         FROM user_groups g
         LEFT JOIN user_group_members gm ON gm.group_id = g.id
         LEFT JOIN users u ON u.id = gm.user_id
        WHERE $1::int IS NULL OR g.id IN (SELECT group_id FROM user_group_members WHERE user_id = $1)
        GROUP BY g.id ORDER BY g.name`,
      [memberId ?? null],
    );
    return rows;
  }

  /** By id or name; a non-admin (`memberId`) sees only their own groups, others are 404. */
  async get(spec: string, memberId?: number): Promise<Group> {
    const id = await this.idOf(this.db.manager, spec);
    const group = (await this.list(memberId)).find((g) => g.id === id);
    if (!group) throw new NotFoundError(NOT_FOUND);
    return group;
  }

  async create(input: { name?: string; description?: string }): Promise<Group> {
    const name = checkModelName(input.name, true)!;
    const rows: Array<{ id: number }> = await this.db.query(
      `INSERT INTO user_groups (name, description) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id`,
      [name, input.description ?? ''],
    );
    if (!rows[0]) throw ValidationError.field('name', 'User group with this Name already exists.');
    return this.get(String(rows[0].id));
  }

  async update(spec: string, input: { name?: string; description?: string }): Promise<Group> {
    const name = checkModelName(input.name, false);
    const id = await this.idOf(this.db.manager, spec);
    try {
      await this.db.query(
        `UPDATE user_groups SET name = COALESCE($2, name), description = COALESCE($3, description) WHERE id = $1`,
        [id, name ?? null, input.description ?? null],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23505')
        throw ValidationError.field('name', 'User group with this Name already exists.');
      throw err;
    }
    return this.get(String(id));
  }

  /**
   * Reservations for the group lapse (the machines become unassigned); its entitlements go, and a
   * pool left with none stays restricted (admins only), not open.
   */
  async delete(spec: string): Promise<void> {
    const id = await this.idOf(this.db.manager, spec);
    // Its foreign key clears the reservations, locking those machines in scan order: an
    // allocation's wait can close a cycle.
    await retryingDeadlocks(() => this.db.query(`DELETE FROM user_groups WHERE id = $1`, [id]));
  }

  async addMember(spec: string, username: string): Promise<Group> {
    const id = await this.idOf(this.db.manager, spec);
    const userId = await this.userId(username);
    await this.db.query(`INSERT INTO user_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
      id,
      userId,
    ]);
    return this.get(String(id));
  }

  async removeMember(spec: string, username: string): Promise<Group> {
    const id = await this.idOf(this.db.manager, spec);
    const userId = await this.userId(username);
    await this.db.query(`DELETE FROM user_group_members WHERE group_id = $1 AND user_id = $2`, [id, userId]);
    return this.get(String(id));
  }

  async entitlements(spec: string): Promise<GroupEntitlement[]> {
    const id = await this.idOf(this.db.manager, spec);
    const rows: Array<{ pool_id: number; name: string; entitlement: Entitlement }> = await this.db.query(
      `SELECT pe.pool_id, p.name, pe.entitlement FROM pool_entitlements pe JOIN resource_pools p ON p.id = pe.pool_id
        WHERE pe.group_id = $1 ORDER BY p.name, pe.entitlement`,
      [id],
    );
    return rows.map((r) => ({
      resourceType: 'pool',
      resourceId: r.pool_id,
      resourceName: r.name,
      entitlement: r.entitlement,
    }));
  }

  /** `resource_type` is `pool` (MAAS's other type, `maas`, is what is_superuser means here). */
  async setEntitlement(
    spec: string,
    e: { resourceType?: string; resourceId?: string; entitlement?: string },
    granted: boolean,
  ): Promise<GroupEntitlement[]> {
    if (e.resourceType !== 'pool')
      throw ValidationError.field(
        'resource_type',
        "Only 'pool' entitlements exist here (admins are users with is_superuser).",
      );
    if (!e.entitlement || !(ENTITLEMENTS as string[]).includes(e.entitlement)) {
      throw ValidationError.field('entitlement', `'${e.entitlement ?? ''}' is not one of: ${ENTITLEMENTS.join(', ')}.`);
    }
    const where = e.resourceId === undefined ? undefined : parsePoolSpecifier(e.resourceId);
    const pools: Array<{ id: number }> = !where
      ? []
      : await this.db.query(
          'id' in where
            ? `SELECT id FROM resource_pools WHERE id = $1`
            : `SELECT id FROM resource_pools WHERE name = $1`,
          ['id' in where ? where.id : where.name],
        );
    if (!pools[0]) throw ValidationError.field('resource_id', `No resource pool '${e.resourceId ?? ''}'.`);
    const id = await this.idOf(this.db.manager, spec);
    await this.db.transaction(async (tx) => {
      await tx.query(
        granted
          ? `INSERT INTO pool_entitlements (pool_id, group_id, entitlement) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
          : `DELETE FROM pool_entitlements WHERE pool_id = $1 AND group_id = $2 AND entitlement = $3`,
        [pools[0]!.id, id, e.entitlement],
      );
      // The first entitlement restricts the pool for good: revoking the last one (or deleting its
      // group) leaves it admins-only, never silently open (see tenancy-sql.ts).
      if (granted)
        await tx.query(
          `UPDATE resource_pools SET restricted = true, updated = now() WHERE id = $1 AND NOT restricted`,
          [pools[0]!.id],
        );
    });
    return this.entitlements(String(id));
  }

  /** By id (digits) or name. */
  async idOf(manager: EntityManager, spec: string): Promise<number> {
    const byId = /^\d{1,9}$/.test(spec);
    const rows: Array<{ id: number }> = await manager.query(
      byId ? `SELECT id FROM user_groups WHERE id = $1` : `SELECT id FROM user_groups WHERE name = $1`,
      [byId ? Number(spec) : spec],
    );
    if (!rows[0]) throw new NotFoundError(NOT_FOUND);
    return rows[0].id;
  }

  private async userId(username: string): Promise<number> {
    const rows: Array<{ id: number }> = await this.db.query(`SELECT id FROM users WHERE username = $1`, [username]);
    if (!rows[0]) throw ValidationError.field('username', `No user '${username}'.`);
    return rows[0].id;
  }
}
