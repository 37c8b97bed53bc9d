// MAAS's spaces: a named set of VLANs (a VLAN is in at most one; its subnets are in the space of
// their VLAN). VLANs in no space belong to MAAS's "undefined" pseudo-space, which the API lists
// with id -1 for Juju 2.0's sake but which is not a row and cannot be changed.
import type { DataSource, EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import type { SpaceRow } from './rows';

/** MAAS's Space.UNDEFINED and its placeholder id. */
export const UNDEFINED_SPACE = 'undefined';
export const UNDEFINED_SPACE_ID = -1;
/** MAAS's space name validator (letters, digits, "_" and "-"), with its length cap. */
const SPACE_NAME = /^[\w-]{1,256}$/;
const NOT_FOUND = 'No Space matches the given query.';

export interface SpaceInput {
  name?: string;
  description?: string;
}

export class SpaceService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<SpaceRow[]> {
    return this.db.query(`SELECT id, name, description FROM spaces ORDER BY id`);
  }

  /** Whether any VLAN is in no space: MAAS lists the undefined space only then. */
  async hasUndefined(): Promise<boolean> {
    return ((await this.db.query(`SELECT 1 FROM vlans WHERE space_id IS NULL LIMIT 1`)) as unknown[]).length > 0;
  }

  /** By id or by name (MAAS's get_space_or_404 takes either). */
  async get(key: string, manager: EntityManager = this.db.manager): Promise<SpaceRow> {
    const rows: SpaceRow[] = /^\d{1,9}$/.test(key)
      ? await manager.query(`SELECT id, name, description FROM spaces WHERE id = $1`, [Number(key)])
      : await manager.query(`SELECT id, name, description FROM spaces WHERE name = $1`, [key]);
    if (!rows[0]) throw new NotFoundError(NOT_FOUND);
    return rows[0];
  }

  /** Named space-<id> when no name is given, as MAAS. */
  create(input: SpaceInput): Promise<SpaceRow> {
    return this.db.transaction(async (tx) => {
      const [{ id }] = (await tx.query(`SELECT nextval('spaces_id_seq')::int AS id`)) as [{ id: number }];
      const name = input.name === undefined ? `space-${id}` : checkName(input.name);
      await assertFree(tx, name, id);
      await tx.query(`INSERT INTO spaces (id, name, description) VALUES ($1, $2, $3)`, [
        id,
        name,
        input.description ?? '',
      ]);
      return this.get(String(id), tx);
    });
  }

  update(key: string, input: SpaceInput): Promise<SpaceRow> {
    return this.db.transaction(async (tx) => {
      const space = await this.get(key, tx);
      const name = input.name === undefined ? space.name : checkName(input.name);
      await assertFree(tx, name, space.id);
      await tx.query(`UPDATE spaces SET name = $2, description = $3, updated = now() WHERE id = $1`, [
        space.id,
        name,
        input.description ?? space.description,
      ]);
      return this.get(String(space.id), tx);
    });
  }

  /** Its VLANs go back to the undefined space (the foreign key is ON DELETE SET NULL, as MAAS). */
  async delete(key: string): Promise<void> {
    const space = await this.get(key);
    await this.db.query(`DELETE FROM spaces WHERE id = $1`, [space.id]);
  }
}

function checkName(name: string): string {
  if (name === UNDEFINED_SPACE) throw ValidationError.field('name', `Reserved space name: ${name}.`);
  if (!SPACE_NAME.test(name))
    throw ValidationError.field('name', 'Enter a valid space name: letters, digits, "_" or "-" (at most 256).');
  return name;
}

async function assertFree(tx: EntityManager, name: string, id: number): Promise<void> {
  const taken: unknown[] = await tx.query(`SELECT 1 FROM spaces WHERE name = $1 AND id <> $2`, [name, id]);
  if (taken.length) throw ValidationError.field('name', 'Space with this Name already exists.');
}

/**
 * A VLAN's `space=`: a space id or name; empty or "undefined" takes the VLAN out of its space
 * (MAAS). One that names no space is a 400 on the field.
 */
export async function spaceIdFor(tx: EntityManager, value: string): Promise<number | null> {
  if (value === '' || value === UNDEFINED_SPACE || value === String(UNDEFINED_SPACE_ID)) return null;
  const rows: Array<{ id: number }> = /^\d{1,9}$/.test(value)
    ? await tx.query(`SELECT id FROM spaces WHERE id = $1`, [Number(value)])
    : await tx.query(`SELECT id FROM spaces WHERE name = $1`, [value]);
  if (!rows[0])
    throw ValidationError.field('space', `Select a valid choice. ${value} is not one of the available choices.`);
  return rows[0].id;
}
