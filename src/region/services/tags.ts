// Machine tags. Admins create, edit and delete tags and attach them to machines; everyone can read
// them. Tags select machines at allocation (`tags=`) and filter listings.
//
// Automatic tags are NOT implemented: MAAS evaluates a tag's `definition` (an XPath expression
// over each machine's lshw/lldp XML) and keeps the tag ↔ machine mapping in sync with it.
// metalflow stores the definition verbatim and never evaluates it (not even to check its syntax);
// machines get a tag only through `update_nodes`. `kernel_opts` is likewise stored but not yet
// added to any boot command line.
import type { DataSource, EntityManager } from 'typeorm';
import { TagEntity, type Tag } from '../db/entities';
import { ConflictError, NotFoundError, ValidationError } from '../errors';

/** MAAS's Tag._tag_name_regex. */
export const TAG_NAME = /^[a-zA-Z0-9_-]+$/;
const TAG_NAME_MAX = 256;

export interface TagInput {
  name?: string;
  comment?: string;
  definition?: string;
  kernelOpts?: string;
}

function checkName(name: string | undefined, required: boolean): string | undefined {
  if (name === undefined && !required) return undefined;
  if (name === undefined || name === '') throw ValidationError.field('name', 'This field is required.');
  if (name.length > TAG_NAME_MAX)
    throw ValidationError.field(
      'name',
      `Ensure this value has at most ${TAG_NAME_MAX} characters (it has ${name.length}).`,
    );
  if (!TAG_NAME.test(name))
    throw ValidationError.field('name', 'Enter a valid value: tag names are letters, digits, "_" and "-" only.');
  return name;
}

export class TagService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<Tag[]> {
    return this.db.getRepository(TagEntity).find({ order: { id: 'ASC' } });
  }

  async get(name: string, manager: EntityManager = this.db.manager): Promise<Tag> {
    const tag = await manager.getRepository(TagEntity).findOneBy({ name });
    if (!tag) throw new NotFoundError('No Tag matches the given query.');
    return tag;
  }

  async create(input: TagInput): Promise<Tag> {
    const name = checkName(input.name, true)!;
    return this.db.transaction(async (tx) => {
      await this.assertFree(tx, name);
      return tx.getRepository(TagEntity).save({
        name,
        comment: input.comment ?? '',
        definition: input.definition ?? '',
        kernelOpts: input.kernelOpts ?? '',
      });
    });
  }

  async update(current: string, input: TagInput): Promise<Tag> {
    const name = checkName(input.name, false);
    return this.db.transaction(async (tx) => {
      const tag = await this.lock(tx, current);
      if (name !== undefined && name !== tag.name) {
        await this.assertFree(tx, name);
        tag.name = name;
      }
      if (input.comment !== undefined) tag.comment = input.comment;
      if (input.definition !== undefined) tag.definition = input.definition;
      if (input.kernelOpts !== undefined) tag.kernelOpts = input.kernelOpts;
      return tx.getRepository(TagEntity).save(tag);
    });
  }

  /** Machines lose the tag with it (machine_tags cascades). */
  async delete(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const tag = await this.lock(tx, name);
      await tx.getRepository(TagEntity).delete({ id: tag.id });
    });
  }

  /**
   * MAAS's `update_nodes`: tag the machines in `add`, untag those in `remove`. Unknown system_ids
   * are ignored, and the counts are of the machines that matched, as MAAS reports them. A given
   * `definition` that differs from the tag's means the caller is out of date: 409, nothing changes.
   */
  async updateMachines(
    name: string,
    o: { add: string[]; remove: string[]; definition?: string },
  ): Promise<{ added: number; removed: number }> {
    return this.db.transaction(async (tx) => {
      const tag = await this.lock(tx, name);
      if (o.definition !== undefined && o.definition !== tag.definition) {
        throw new ConflictError(
          `Definition supplied '${o.definition}' doesn't match current definition '${tag.definition}'`,
        );
      }
      let added = 0;
      let removed = 0;
      if (o.add.length > 0) {
        const rows: Array<{ id: number }> = await tx.query(
          `SELECT id FROM machines WHERE system_id = ANY($1::text[])`,
          [o.add],
        );
        added = rows.length;
        await tx.query(
          `INSERT INTO machine_tags (machine_id, tag_id) SELECT unnest($1::int[]), $2 ON CONFLICT DO NOTHING`,
          [rows.map((r) => r.id), tag.id],
        );
      }
      if (o.remove.length > 0) {
        const rows: Array<{ id: number }> = await tx.query(
          `SELECT id FROM machines WHERE system_id = ANY($1::text[])`,
          [o.remove],
        );
        removed = rows.length;
        await tx.query(`DELETE FROM machine_tags WHERE tag_id = $1 AND machine_id = ANY($2::int[])`, [
          tag.id,
          rows.map((r) => r.id),
        ]);
      }
      return { added, removed };
    });
  }

  private async lock(tx: EntityManager, name: string): Promise<Tag> {
    const tag = await tx
      .getRepository(TagEntity)
      .createQueryBuilder('t')
      .setLock('pessimistic_write')
      .where('t.name = :name', { name })
      .getOne();
    if (!tag) throw new NotFoundError('No Tag matches the given query.');
    return tag;
  }

  private async assertFree(tx: EntityManager, name: string): Promise<void> {
    if (await tx.getRepository(TagEntity).existsBy({ name }))
      throw ValidationError.field('name', 'Tag with this Name already exists.');
  }
}
