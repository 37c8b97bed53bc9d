// Resource pools (MAAS 2.4+). `default` always exists and machine creation falls back to it by
// name, so it can be neither deleted nor renamed; a pool with machines cannot be deleted.
import type { DataSource, EntityManager } from 'typeorm';
import { ResourcePoolEntity, type ResourcePool } from '../db/entities';
import { NotFoundError, ValidationError } from '../errors';
import { checkModelName } from './zones';

export const DEFAULT_POOL = 'default';

export interface PoolInput {
  name?: string;
  description?: string;
  /** false opens a restricted pool to every user again (true restricts one nobody is entitled to). */
  restricted?: boolean;
}

/**
 * MAAS's pool specifiers: `id:3`, `name:gpu`, or a bare value (all digits → id, else name).
 * Returns undefined for an id that cannot exist, so the caller answers 404.
 */
export function parsePoolSpecifier(spec: string): { id: number } | { name: string } | undefined {
  const m = /^(id|name):(.*)$/.exec(spec);
  const [kind, value] = m ? [m[1], m[2] ?? ''] : [/^\d+$/.test(spec) ? 'id' : 'name', spec];
  if (kind === 'name') return { name: value };
  const id = /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(id) && id <= 2_147_483_647 ? { id } : undefined;
}

export class PoolService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<ResourcePool[]> {
    return this.db.getRepository(ResourcePoolEntity).find({ order: { name: 'ASC' } });
  }

  /** By id or name (see parsePoolSpecifier). */
  async get(spec: string, manager: EntityManager = this.db.manager): Promise<ResourcePool> {
    const where = parsePoolSpecifier(spec);
    const pool = where ? await manager.getRepository(ResourcePoolEntity).findOneBy(where) : null;
    if (!pool) throw new NotFoundError('No ResourcePool matches the given query.');
    return pool;
  }

  async create(input: PoolInput): Promise<ResourcePool> {
    const name = checkModelName(input.name, true)!;
    return this.db.transaction(async (tx) => {
      await this.assertFree(tx, name);
      return tx.getRepository(ResourcePoolEntity).save({ name, description: input.description ?? '' });
    });
  }

  async update(spec: string, input: PoolInput): Promise<ResourcePool> {
    const name = checkModelName(input.name, false);
    return this.db.transaction(async (tx) => {
      const pool = await this.lock(tx, spec);
      if (name !== undefined && name !== pool.name) {
        if (pool.name === DEFAULT_POOL)
          throw ValidationError.field('name', 'This is the default pool, it cannot be renamed.');
        await this.assertFree(tx, name);
        pool.name = name;
      }
      if (input.description !== undefined) pool.description = input.description;
      if (input.restricted === false) {
        const held: unknown[] = await tx.query(`SELECT 1 FROM pool_entitlements WHERE pool_id = $1 LIMIT 1`, [pool.id]);
        if (held.length)
          throw ValidationError.field(
            'restricted',
            'Groups hold entitlements on this pool: it is restricted while they do.',
          );
      }
      if (input.restricted !== undefined)
        await tx.query(`UPDATE resource_pools SET restricted = $2 WHERE id = $1`, [pool.id, input.restricted]);
      return tx.getRepository(ResourcePoolEntity).save(pool);
    });
  }

  async delete(spec: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Locked first: a machine being put in the pool holds a key-share lock on this row, so the
      // count below cannot miss it, and none can join after it.
      const pool = await this.lock(tx, spec);
      if (pool.name === DEFAULT_POOL)
        throw new ValidationError({ __all__: ['This is the default pool, it cannot be deleted.'] });
      const rows: Array<{ n: number }> = await tx.query(`SELECT count(*)::int AS n FROM machines WHERE pool_id = $1`, [
        pool.id,
      ]);
      if ((rows[0]?.n ?? 0) > 0)
        throw new ValidationError({ __all__: ['Pool has machines in it, it cannot be deleted.'] });
      await tx.getRepository(ResourcePoolEntity).delete({ id: pool.id });
    });
  }

  private async lock(tx: EntityManager, spec: string): Promise<ResourcePool> {
    const where = parsePoolSpecifier(spec);
    const qb = tx.getRepository(ResourcePoolEntity).createQueryBuilder('p').setLock('pessimistic_write');
    const pool = !where
      ? null
      : 'id' in where
        ? await qb.where('p.id = :id', where).getOne()
        : await qb.where('p.name = :name', where).getOne();
    if (!pool) throw new NotFoundError('No ResourcePool matches the given query.');
    return pool;
  }

  private async assertFree(tx: EntityManager, name: string): Promise<void> {
    if (await tx.getRepository(ResourcePoolEntity).existsBy({ name })) {
      throw ValidationError.field('name', 'Resource pool with this Name already exists.');
    }
  }
}
