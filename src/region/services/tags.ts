// Machine tags. Admins create, edit and delete tags and attach them to machines; everyone can read
// them. Tags select machines at allocation (`tags=`) and filter listings.
//
// Automatic tags (issue 20): a tag with a `definition` (XPath over each machine's lshw and LLDP
// XML, tag-definitions.ts) is checked when written and its machines recomputed then (MAAS's
// populate_nodes), on `rebuild`, and for one machine when its commissioning ends. `kernel_opts` is
// stored but not yet added to any boot command line.
import type { DataSource, EntityManager } from 'typeorm';
import { TagEntity, type Tag } from '../db/entities';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { captureOutput, sameRunLldp } from './probe-details';
import { checkDefinition, definitionMatches, parseDetails } from './tag-definitions';
import {
  applyPopulation,
  evaluateTag,
  lockForMachineTags,
  lockForPopulationWrite,
  POPULATION_LIMITS,
  type Population,
  type PopulationLimits,
} from './tag-population';

/** The built-in script whose output automatic tags are evaluated against. */
export const LSHW_SCRIPT = '00-maas-01-lshw';
/** Each machine's latest passed lshw output, with the LLDP capture of the same run. */
const LATEST_LSHW = `SELECT DISTINCT ON (t.machine_id) t.machine_id AS "machineId", r.output, ${captureOutput('c')} AS lldp
   FROM script_results r JOIN script_sets t ON t.id = r.script_set_id ${sameRunLldp('c')}
  WHERE r.script_name = '${LSHW_SCRIPT}' AND r.status = 2`;

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

const isDefined = (definition: string | undefined): definition is string =>
  definition !== undefined && definition.trim() !== '';

export class TagService {
  constructor(
    private readonly db: DataSource,
    private readonly limits: PopulationLimits = POPULATION_LIMITS,
  ) {}

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
    if (input.definition !== undefined) checkDefinition(input.definition);
    await this.assertFree(this.db.manager, name); // before the walk: a taken name is a quick 400
    const population = isDefined(input.definition) ? await this.evaluate(input.definition) : undefined;
    return this.db.transaction(async (tx) => {
      if (population) await lockForPopulationWrite(tx);
      await this.assertFree(tx, name);
      const tag = await tx.getRepository(TagEntity).save({
        name,
        comment: input.comment ?? '',
        definition: input.definition ?? '',
        kernelOpts: input.kernelOpts ?? '',
      });
      if (population) await applyPopulation(tx, tag.id, tag.definition, population, this.limits);
      return tag;
    });
  }

  async update(current: string, input: TagInput): Promise<Tag> {
    const name = checkName(input.name, false);
    if (input.definition !== undefined) checkDefinition(input.definition);
    const seen = await this.get(current);
    const definition = input.definition;
    let population =
      isDefined(definition) && definition !== seen.definition ? await this.evaluate(definition) : undefined;
    return this.db.transaction(async (tx) => {
      if (isDefined(definition)) await lockForPopulationWrite(tx);
      const tag = await this.lock(tx, current);
      if (name !== undefined && name !== tag.name) {
        await this.assertFree(tx, name);
        tag.name = name;
      }
      if (input.comment !== undefined) tag.comment = input.comment;
      const redefined = definition !== undefined && definition !== tag.definition;
      // Redefined by another request since it was read: walked here, under the lock (rare).
      if (redefined && isDefined(definition) && !population) population = await this.evaluate(definition, tx);
      if (definition !== undefined) tag.definition = definition;
      if (input.kernelOpts !== undefined) tag.kernelOpts = input.kernelOpts;
      const saved = await tx.getRepository(TagEntity).save(tag);
      if (redefined && population) await applyPopulation(tx, saved.id, saved.definition, population, this.limits);
      return saved;
    });
  }

  /** MAAS's `rebuild`: the tag's machines recomputed from its definition (a manual tag keeps its own). */
  async rebuild(name: string): Promise<Tag> {
    const seen = await this.get(name);
    const population = isDefined(seen.definition) ? await this.evaluate(seen.definition) : undefined;
    return this.db.transaction(async (tx) => {
      if (population) await lockForPopulationWrite(tx);
      const tag = await this.lock(tx, name);
      // Redefined meanwhile: that request wrote its own population, which is the newer.
      if (population && tag.definition === seen.definition)
        await applyPopulation(tx, tag.id, tag.definition, population, this.limits);
      return tag;
    });
  }

  private evaluate(definition: string, manager: EntityManager = this.db.manager): Promise<Population> {
    return evaluateTag(manager, definition, this.limits);
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

/**
 * MAAS's populate_tags_for_single_node, when a machine's commissioning ends: every defined tag
 * added to or removed from the machine by its latest lshw output and that run's LLDP capture (no
 * lshw output: it matches no tag).
 */
export async function populateTagsForMachine(tx: EntityManager, machineId: number): Promise<void> {
  await lockForMachineTags(tx);
  const tags: Array<{ id: number; definition: string }> = await tx.query(
    `SELECT id, definition FROM tags WHERE btrim(definition) <> '' ORDER BY id`,
  );
  if (tags.length === 0) return;
  const rows: Array<{ output: Buffer; lldp: Buffer | null }> = await tx.query(
    `${LATEST_LSHW} AND t.machine_id = $1 ORDER BY t.machine_id, r.id DESC`,
    [machineId],
  );
  const doc = rows[0] ? parseDetails({ lshw: rows[0].output, lldp: rows[0].lldp }) : null;
  const matching = tags.filter((t) => definitionMatches(t.definition, doc)).map((t) => t.id);
  const defined = tags.map((t) => t.id);
  await tx.query(
    `DELETE FROM machine_tags WHERE machine_id = $1 AND tag_id = ANY($2::int[]) AND NOT (tag_id = ANY($3::int[]))`,
    [machineId, defined, matching],
  );
  await tx.query(`INSERT INTO machine_tags (machine_id, tag_id) SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING`, [
    machineId,
    matching,
  ]);
}
