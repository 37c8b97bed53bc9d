// MAAS's populate_nodes without stalling the region: a defined tag's machines are exactly those
// whose probe details match its XPath: the latest lshw output with the LLDP capture of the same
// run (probe-details.ts; a machine without lshw output matches nothing). Parsing and evaluating are synchronous (xmldom,
// xpath) on the API's event loop, so the walk reads machines in keyset batches outside any
// transaction, yields to the event loop before each machine, parses at most SIGNAL_LIMITS.fileBytes
// of output, and refuses the definition (400, nothing written) once one evaluation takes past the
// budget. The outcome is written by the caller's short transaction, with the definition, after the
// machines whose details changed during the walk are evaluated again: the tag's row lock is held only
// for that write, and a refused definition leaves the tag and its machines as they were.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../errors';
import { captureOutput, LSHW_SCRIPT, sameRunLldp } from './probe-details';
import { definitionMatches, parseDetails } from './tag-definitions';
import { sqlCount } from './sql-count';

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

/**
 * What a walk found: the matching machines, and which details of each machine it evaluated (its
 * lshw result's id and its LLDP capture's, `version`).
 */
export interface Population {
  matching: Set<number>;
  evaluated: Map<number, string>;
}

interface Latest {
  machineId: number;
  resultId: number;
  lldpId: number | null;
}
const version = (l: Latest) => `${l.resultId}/${l.lldpId ?? ''}`;

/**
 * Each machine's latest passed lshw result and its run's passed LLDP capture (ids only) after
 * `afterMachine`, in machine order.
 */
function latestLshw(manager: EntityManager, afterMachine: number, limit?: number): Promise<Latest[]> {
  return manager.query(
    `SELECT l."machineId", r.id AS "resultId", c.id AS "lldpId"
       FROM (SELECT t.machine_id AS "machineId", max(r.id) AS "resultId"
               FROM script_results r JOIN script_sets t ON t.id = r.script_set_id
              WHERE r.script_name = $1 AND r.status = 2 AND t.machine_id > $2
              GROUP BY t.machine_id ORDER BY t.machine_id${limit === undefined ? '' : ` LIMIT ${sqlCount(limit)}`}) l
       JOIN script_results r ON r.id = l."resultId" ${sameRunLldp('c')}
      ORDER BY l."machineId"`,
    [LSHW_SCRIPT, afterMachine],
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
  const rows: Array<Latest & { systemId: string; output: Buffer; lldp: Buffer | null }> = await manager.query(
    `SELECT t.machine_id AS "machineId", r.id AS "resultId", m.system_id AS "systemId", r.output,
            c.id AS "lldpId", ${captureOutput('c')} AS lldp
       FROM script_results r JOIN script_sets t ON t.id = r.script_set_id JOIN machines m ON m.id = t.machine_id
       ${sameRunLldp('c')}
      WHERE r.id = ANY($1::int[]) ORDER BY t.machine_id`,
    [latest.map((l) => l.resultId)],
  );
  for (const row of rows) {
    await nextTurn(); // other requests run between machines
    const started = performance.now();
    const doc = parseDetails({ lshw: row.output, lldp: row.lldp });
    const matches = definitionMatches(definition, doc);
    const took = performance.now() - started;
    if (took >= limits.evaluationMs)
      throw ValidationError.field(
        'definition',
        `Evaluating the definition against ${row.systemId}'s details took ${Math.round(took)} ms; at most ${limits.evaluationMs} ms per machine.`,
      );
    into.evaluated.set(row.machineId, version(row));
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
 * In the caller's transaction, under the tag's row lock: machines whose latest details are not the
 * ones the walk evaluated are evaluated now (commissioned meanwhile, usually none), those that lost
 * their lshw match nothing, and the tag's machines become exactly the matching ones.
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
  const changed = now.filter((l) => population.evaluated.get(l.machineId) !== version(l));
  await evaluate(tx, definition, changed, limits, population);
  const matching = [...population.matching];
  await tx.query(`DELETE FROM machine_tags WHERE tag_id = $1 AND NOT (machine_id = ANY($2::int[]))`, [tagId, matching]);
  await tx.query(`INSERT INTO machine_tags (machine_id, tag_id) SELECT unnest($1::int[]), $2 ON CONFLICT DO NOTHING`, [
    matching,
    tagId,
  ]);
}
