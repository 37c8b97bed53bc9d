// MAAS's populate_nodes without stalling the region: a defined tag's machines are exactly those
// whose latest lshw output matches its XPath. Parsing and evaluating are synchronous (xmldom,
// xpath) on the API's event loop, so the walk reads machines in keyset batches outside any
// transaction, yields to the event loop before each machine, parses at most SIGNAL_LIMITS.fileBytes
// of output, and refuses the definition (400, nothing written) once one evaluation takes past the
// budget. The outcome is written by the caller's short transaction, with the definition, after the
// machines whose lshw changed during the walk are evaluated again: the tag's row lock is held only
// for that write, and a refused definition leaves the tag and its machines as they were.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../errors';
import { LSHW_SCRIPT } from './hardware/commissioning-output';
import { SIGNAL_LIMITS } from './signal-limits';
import { definitionMatches, parseLshw } from './tag-definitions';

/**
 * pg advisory lock key (any fixed number unused elsewhere) ordering a tag's population write
 * against a machine's own tag recomputation at the end of its commissioning. A population write
 * takes it exclusively, first thing in its transaction (before the tag's row lock: a commissioning
 * waiting for it holds its machine's lock and then needs the tag row for machine_tags' foreign key);
 * a commissioning takes it shared before it reads the tags. Whichever commits second has read the
 * other's commit (READ COMMITTED), so the later writer wins with the newer lshw and definition.
 */
const TAG_POPULATION_LOCK = 7_310_020;

/** In a tag's create/update/rebuild transaction, before anything else it locks. */
export async function lockForPopulationWrite(tx: EntityManager): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock($1)`, [TAG_POPULATION_LOCK]);
}

/** In a commissioning's transaction, before it reads the tags to recompute its machine's. */
export async function lockForMachineTags(tx: EntityManager): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock_shared($1)`, [TAG_POPULATION_LOCK]);
}

export interface PopulationLimits {
  /** Machines whose output is read at once (each up to SIGNAL_LIMITS.fileBytes). */
  batch: number;
  /** One machine's parse + evaluation; MAAS's definitions take well under a millisecond. */
  evaluationMs: number;
}
export const POPULATION_LIMITS: PopulationLimits = { batch: 25, evaluationMs: 1000 };

/** What a walk found: the matching machines, and which lshw result of each machine it evaluated. */
export interface Population {
  matching: Set<number>;
  evaluated: Map<number, number>;
}

interface Latest {
  machineId: number;
  resultId: number;
}

/** Each machine's latest passed lshw result (ids only) after `afterMachine`, in machine order. */
function latestLshw(manager: EntityManager, afterMachine: number, limit?: number): Promise<Latest[]> {
  return manager.query(
    `SELECT t.machine_id AS "machineId", max(r.id) AS "resultId"
       FROM script_results r JOIN script_sets t ON t.id = r.script_set_id
      WHERE r.script_name = $1 AND r.status = 2 AND t.machine_id > $2
      GROUP BY t.machine_id ORDER BY t.machine_id${limit === undefined ? '' : ' LIMIT $3'}`,
    limit === undefined ? [LSHW_SCRIPT, afterMachine] : [LSHW_SCRIPT, afterMachine, limit],
  );
}

async function evaluate(
  manager: EntityManager,
  definition: string,
  latest: readonly Latest[],
  limits: PopulationLimits,
  into: Population,
): Promise<void> {
  if (latest.length === 0) return;
  const rows: Array<{ machineId: number; resultId: number; systemId: string; output: Buffer }> = await manager.query(
    `SELECT t.machine_id AS "machineId", r.id AS "resultId", m.system_id AS "systemId", r.output
       FROM script_results r JOIN script_sets t ON t.id = r.script_set_id JOIN machines m ON m.id = t.machine_id
      WHERE r.id = ANY($1::int[]) ORDER BY t.machine_id`,
    [latest.map((l) => l.resultId)],
  );
  for (const row of rows) {
    await nextTurn(); // other requests run between machines
    const started = performance.now();
    const doc = row.output.length > SIGNAL_LIMITS.fileBytes ? null : parseLshw(row.output);
    const matches = definitionMatches(definition, doc);
    const took = performance.now() - started;
    if (took >= limits.evaluationMs)
      throw ValidationError.field(
        'definition',
        `Evaluating the definition against ${row.systemId}'s lshw output took ${Math.round(took)} ms; at most ${limits.evaluationMs} ms per machine.`,
      );
    into.evaluated.set(row.machineId, row.resultId);
    if (matches) into.matching.add(row.machineId);
    else into.matching.delete(row.machineId);
  }
}

/** The walk: every machine with lshw output, a batch at a time (no transaction needed). */
export async function evaluateTag(
  manager: EntityManager,
  definition: string,
  limits: PopulationLimits = POPULATION_LIMITS,
): Promise<Population> {
  const population: Population = { matching: new Set(), evaluated: new Map() };
  for (let after = 0; ;) {
    const batch = await latestLshw(manager, after, limits.batch);
    if (batch.length === 0) return population;
    await evaluate(manager, definition, batch, limits, population);
    after = batch[batch.length - 1]!.machineId;
  }
}

/**
 * In the caller's transaction, under the tag's row lock: machines whose latest lshw is not the one
 * the walk evaluated are evaluated now (commissioned meanwhile, usually none), those that lost it
 * match nothing, and the tag's machines become exactly the matching ones.
 */
export async function applyPopulation(
  tx: EntityManager,
  tagId: number,
  definition: string,
  population: Population,
  limits: PopulationLimits = POPULATION_LIMITS,
): Promise<void> {
  const now = await latestLshw(tx, 0);
  const current = new Set(now.map((l) => l.machineId));
  for (const id of population.matching) if (!current.has(id)) population.matching.delete(id);
  const changed = now.filter((l) => population.evaluated.get(l.machineId) !== l.resultId);
  await evaluate(tx, definition, changed, limits, population);
  const matching = [...population.matching];
  await tx.query(`DELETE FROM machine_tags WHERE tag_id = $1 AND NOT (machine_id = ANY($2::int[]))`, [tagId, matching]);
  await tx.query(`INSERT INTO machine_tags (machine_id, tag_id) SELECT unnest($1::int[]), $2 ON CONFLICT DO NOTHING`, [
    matching,
    tagId,
  ]);
}
