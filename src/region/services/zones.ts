// Physical zones (MAAS's Zone). Every machine is in one; `default` always exists, and machine
// creation falls back to it by name, so it can be neither deleted nor renamed.
import type { DataSource, EntityManager } from 'typeorm';
import { ZoneEntity, type Zone } from '../db/entities';
import { NotFoundError, ValidationError } from '../errors';
import { transactionRetryingDeadlocks } from '../db/deadlock-retry';

export const DEFAULT_ZONE = 'default';
/** MAAS's MODEL_NAME_VALIDATOR (maasserver/fields.py), shared by zones and resource pools. */
export const MODEL_NAME = /^\w[ \w-]*$/;
export const MODEL_NAME_MAX = 256;

export interface ZoneInput {
  name?: string;
  description?: string;
}

/** Django's wording for a bad or missing model name, naming the field. */
export function checkModelName(name: string | undefined, required: boolean): string | undefined {
  if (name === undefined && !required) return undefined;
  if (name === undefined || name.trim() === '') throw ValidationError.field('name', 'This field is required.');
  if (name.length > MODEL_NAME_MAX) {
    throw ValidationError.field(
      'name',
      `Ensure this value has at most ${MODEL_NAME_MAX} characters (it has ${name.length}).`,
    );
  }
  if (!MODEL_NAME.test(name)) {
    throw ValidationError.field(
      'name',
      'Enter a valid value: a letter, digit or underscore, then letters, digits, spaces, "_" or "-".',
    );
  }
  return name;
}

export class ZoneService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<Zone[]> {
    return this.db.getRepository(ZoneEntity).find({ order: { name: 'ASC' } });
  }

  async get(name: string, manager: EntityManager = this.db.manager): Promise<Zone> {
    const zone = await manager.getRepository(ZoneEntity).findOneBy({ name });
    if (!zone) throw new NotFoundError('No Zone matches the given query.');
    return zone;
  }

  async create(input: ZoneInput): Promise<Zone> {
    const name = checkModelName(input.name, true)!;
    return this.db.transaction(async (tx) => {
      await this.assertFree(tx, name);
      return tx.getRepository(ZoneEntity).save({ name, description: input.description ?? '' });
    });
  }

  async update(current: string, input: ZoneInput): Promise<Zone> {
    const name = checkModelName(input.name, false);
    return this.db.transaction(async (tx) => {
      const zone = await this.lock(tx, current);
      if (name !== undefined && name !== zone.name) {
        if (zone.name === DEFAULT_ZONE)
          throw ValidationError.field('name', 'This zone is the default zone, it cannot be renamed.');
        await this.assertFree(tx, name);
        zone.name = name;
      }
      if (input.description !== undefined) zone.description = input.description;
      return tx.getRepository(ZoneEntity).save(zone);
    });
  }

  /** As MAAS (Node.zone is SET_DEFAULT on delete): the zone's machines move to the default zone. */
  async delete(name: string): Promise<void> {
    // Its UPDATE locks the zone's machines in scan order: an allocation's wait can close a cycle.
    await transactionRetryingDeadlocks(this.db, async (tx) => {
      const zone = await this.lock(tx, name);
      if (zone.name === DEFAULT_ZONE)
        throw new ValidationError({ __all__: ['This zone is the default zone, it cannot be deleted.'] });
      const fallback = await this.get(DEFAULT_ZONE, tx);
      await tx.query(`UPDATE machines SET zone_id = $1, updated = now() WHERE zone_id = $2`, [fallback.id, zone.id]);
      await tx.getRepository(ZoneEntity).delete({ id: zone.id });
    });
  }

  /** The row lock makes delete and rename wait for machines being placed in the zone, and vice versa. */
  private async lock(tx: EntityManager, name: string): Promise<Zone> {
    const zone = await tx
      .getRepository(ZoneEntity)
      .createQueryBuilder('z')
      .setLock('pessimistic_write')
      .where('z.name = :name', { name })
      .getOne();
    if (!zone) throw new NotFoundError('No Zone matches the given query.');
    return zone;
  }

  private async assertFree(tx: EntityManager, name: string): Promise<void> {
    if (await tx.getRepository(ZoneEntity).existsBy({ name })) {
      throw ValidationError.field('name', 'Physical zone with this Name already exists.');
    }
  }
}
