// Script sets, as MAAS makes them when an operation starts: one set per commissioning or testing
// run of a machine, with one pending result per script it will run. A set belongs to the run that
// made it through the machine's claim token, so a retry of the same run finds it again and the
// next run gets a new one. Steps in a caller's transaction.
import type { EntityManager } from 'typeorm';
import { MachineStatus as S } from '../../../contracts/lifecycle';
import type { Machine } from '../../db/entities';
import { ValidationError } from '../../errors';
import { RESULT_TYPE_NAME, SCRIPT_TYPE } from './script-enums';
import { applyScriptParameters, type ScriptParameterInput } from './script-set-parameters';

export const RESULT_TYPE = { commissioning: 0, testing: 1, installation: 2, release: 3 } as const;

/** MAAS's selection of testing scripts when none are named: those tagged `commissioning`. */
const DEFAULT_TESTING_TAG = 'commissioning';

/**
 * The scripts a new set runs. Commissioning: every built-in commissioning script plus the user's
 * commissioning scripts (all, or those `names` selects by name or tag). Testing: the testing
 * scripts `names` selects, else those tagged `commissioning`. An unknown name is a 400.
 */
async function selectScripts(
  tx: EntityManager,
  resultType: number,
  names: readonly string[] | undefined,
): Promise<Array<{ id: number; name: string; versionId: number }>> {
  const scriptType = resultType === RESULT_TYPE.testing ? SCRIPT_TYPE.testing : SCRIPT_TYPE.commissioning;
  const rows: Array<{ id: number; name: string; tags: string[]; isDefault: boolean; versionId: number }> =
    await tx.query(
      `SELECT s.id, s.name, s.tags, s.is_default AS "isDefault",
              (SELECT max(v.id) FROM script_versions v WHERE v.script_id = s.id) AS "versionId"
         FROM scripts s WHERE s.script_type = $1 ORDER BY s.name`,
      [scriptType],
    );
  const selected = (r: (typeof rows)[number]) => names!.some((n) => n === r.name || r.tags.includes(n));
  if (names !== undefined) {
    const unknown = names.filter((n) => n !== 'none' && !rows.some((r) => r.name === n || r.tags.includes(n)));
    if (unknown.length > 0)
      throw ValidationError.field(
        resultType === RESULT_TYPE.testing ? 'testing_scripts' : 'commissioning_scripts',
        `Unknown ${scriptType === SCRIPT_TYPE.testing ? 'testing' : 'commissioning'} scripts: ${unknown.join(', ')}`,
      );
  }
  if (resultType === RESULT_TYPE.testing)
    return rows.filter((r) => (names === undefined ? r.tags.includes(DEFAULT_TESTING_TAG) : selected(r)));
  return rows.filter((r) => r.isDefault || names === undefined || selected(r));
}

/** This run's set of a type: the latest made with the run's claim token ($1 machine, $2 type, $3 token). */
const RUN_SET = `SELECT id FROM script_sets WHERE machine_id = $1 AND result_type = $2 AND claim_token IS NOT DISTINCT FROM $3
      ORDER BY id DESC LIMIT 1`;

/** Creates the run's set (or returns the one it already made) with a pending result per script. */
export async function ensureScriptSet(
  tx: EntityManager,
  machineId: number,
  resultType: number,
  claimToken: string | null,
  names?: readonly string[],
): Promise<number> {
  if (RESULT_TYPE_NAME[resultType] === undefined) throw new Error(`unknown result type ${resultType}`);
  const existing: Array<{ id: number }> = await tx.query(RUN_SET, [machineId, resultType, claimToken]);
  if (existing[0]) return existing[0].id;
  const scripts = await selectScripts(tx, resultType, names);
  const [set] = (await tx.query(
    `INSERT INTO script_sets (machine_id, result_type, claim_token) VALUES ($1, $2, $3) RETURNING id`,
    [machineId, resultType, claimToken],
  )) as Array<{ id: number }>;
  if (scripts.length > 0)
    await tx.query(
      `INSERT INTO script_results (script_set_id, script_id, script_version_id, script_name, parameters)
       SELECT $1, s.id, v.version_id, s.name, s.parameters
         FROM unnest($2::int[], $3::int[]) AS v(script_id, version_id) JOIN scripts s ON s.id = v.script_id`,
      [set!.id, scripts.map((s) => s.id), scripts.map((s) => s.versionId)],
    );
  // Every parameter's default (a storage or interface parameter's is `all`: a result per disk or
  // interface); applyRunParameters redoes this with the request's values, and only then is a
  // required parameter without a value a 400.
  await applyScriptParameters(tx, machineId, [set!.id], {}, false);
  return set!.id;
}

/**
 * The request's script parameters (op=commission, op=test) over this run's sets, made with its
 * claim token: every name checked against all of them, a bad one a 400 in the start's transaction.
 */
export async function applyRunParameters(
  tx: EntityManager,
  machineId: number,
  claimToken: string,
  input: ScriptParameterInput,
): Promise<void> {
  const sets: Array<{ id: number }> = await tx.query(
    `SELECT id FROM script_sets WHERE machine_id = $1 AND claim_token = $2 ORDER BY id`,
    [machineId, claimToken],
  );
  await applyScriptParameters(
    tx,
    machineId,
    sets.map((s) => s.id),
    input,
  );
}

/**
 * A testing run's set (op=test, or the tests a commissioning goes on to): `names` as
 * ensureScriptSet takes them (undefined: MAAS's default). A selection with nothing in it is MAAS's
 * 400 "No testing scripts found!", so no run starts with nothing to test.
 */
export async function ensureTestingSet(
  tx: EntityManager,
  machineId: number,
  claimToken: string,
  names: readonly string[] | undefined,
): Promise<void> {
  const setId = await ensureScriptSet(tx, machineId, RESULT_TYPE.testing, claimToken, names);
  const [row] = (await tx.query(`SELECT count(*)::int AS n FROM script_results WHERE script_set_id = $1`, [
    setId,
  ])) as Array<{ n: number }>;
  if (row!.n === 0) throw ValidationError.field('testing_scripts', 'No testing scripts found!');
}

/** The machine's latest set of this type (MAAS's current_commissioning/testing_script_set), or null. */
export async function currentScriptSetId(
  tx: EntityManager,
  machineId: number,
  resultType: number,
): Promise<number | null> {
  const rows: Array<{ id: number }> = await tx.query(
    `SELECT id FROM script_sets WHERE machine_id = $1 AND result_type = $2 ORDER BY id DESC LIMIT 1`,
    [machineId, resultType],
  );
  return rows[0]?.id ?? null;
}

/** The result type whose set a machine in `status` runs and reports (null: none). */
export function runningType(status: number): number | null {
  if (status === S.COMMISSIONING) return RESULT_TYPE.commissioning;
  if (status === S.TESTING) return RESULT_TYPE.testing;
  return null;
}

/**
 * This run's set of `type` with its last_ping set to now, in one statement (a signal's, which
 * runs for every report of every machine); null when the run has no set yet (ensureScriptSet).
 */
export async function touchRunSet(
  tx: EntityManager,
  machineId: number,
  type: number,
  claimToken: string | null,
): Promise<number | null> {
  const rows: Array<{ id: number }> = await tx.query(
    // As a SELECT: TypeORM answers an UPDATE with [rows, count].
    `WITH touched AS (UPDATE script_sets SET last_ping = now() WHERE id = (${RUN_SET}) RETURNING id)
     SELECT id FROM touched`,
    [machineId, type, claimToken],
  );
  return rows[0]?.id ?? null;
}

/**
 * The set a signal reports to (op=signal: MAAS's _store_results), made if the run has none yet,
 * its last_ping set to now: one statement when the signal names no result and the set exists.
 */
export async function pingedRunSet(
  tx: EntityManager,
  machine: Machine,
  type: number,
  scriptResultId: number | undefined,
): Promise<number> {
  if (scriptResultId === undefined) {
    const touched = await touchRunSet(tx, machine.id, type, machine.claimToken);
    if (touched !== null) return touched;
  }
  let setId = await ensureScriptSet(tx, machine.id, type, machine.claimToken);
  // A result named by id may be in the run's other set: the tests a commissioning goes on to
  // report before its workflow has moved the machine to TESTING.
  if (scriptResultId !== undefined) setId = (await runSetOf(tx, machine, scriptResultId)) ?? setId;
  await tx.query(`UPDATE script_sets SET last_ping = now() WHERE id = $1`, [setId]);
  return setId;
}

/** The set of this run (the machine's claim token) that holds result `id`, if any. */
async function runSetOf(tx: EntityManager, machine: Machine, id: number): Promise<number | null> {
  const rows: Array<{ setId: number }> = await tx.query(
    `SELECT r.script_set_id AS "setId" FROM script_results r JOIN script_sets t ON t.id = r.script_set_id
      WHERE r.id = $1 AND t.machine_id = $2 AND t.claim_token IS NOT DISTINCT FROM $3`,
    [id, machine.id, machine.claimToken],
  );
  return rows[0]?.setId ?? null;
}

/** This run's set of `type` (made at the operation's start with the machine's claim token), if any. */
export async function runSetId(tx: EntityManager, machine: Machine, type: number): Promise<number | null> {
  const rows: Array<{ id: number }> = await tx.query(RUN_SET, [machine.id, type, machine.claimToken]);
  return rows[0]?.id ?? null;
}
