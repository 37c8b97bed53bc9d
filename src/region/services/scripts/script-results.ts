// MAAS's script results: what the metadata server hands a machine to run (maas-scripts-tar.ts)
// and stores from its op=signal uploads (one
// result per script: output, stdout, stderr, result YAML, exit status, runtime), and what the API
// reads (nodes/{id}/results/), downloads and deletes. Sets are made by script-sets.ts; the machine's
// status fields are script-statuses.ts.
import type { DataSource, EntityManager } from 'typeorm';
import type { Machine } from '../../db/entities';
import { NotFoundError, ValidationError } from '../../errors';
import type { MachineQueries } from '../machine-queries';
import type { Principal } from '../principal';
import { overallStatus, RUNNING_OR_PENDING, SCRIPT_STATUS } from './script-enums';
import { maasScriptsTar } from './maas-scripts-tar';
import { currentScriptSetId, pingedRunSet, RESULT_TYPE, runningType, runSetId } from './script-sets';

export interface ScriptResultRow {
  id: number;
  setId: number;
  name: string;
  scriptId: number | null;
  scriptVersionId: number | null;
  status: number;
  exitStatus: number | null;
  started: Date | null;
  ended: Date | null;
  parameters: Record<string, unknown>;
  /** The disk or interface this result ran on (a storage or interface parameter's), if any. */
  physicalBlockdeviceId: number | null;
  interfaceId: number | null;
  suppressed: boolean;
  created: Date;
  updated: Date;
  /** The script's, when it still exists. */
  tags: string[];
  hardwareType: number | null;
  timeoutSeconds: number;
  output?: Buffer;
  stdout?: Buffer;
  stderr?: Buffer;
  result?: Buffer;
}

export interface ScriptSetRow {
  id: number;
  systemId: string;
  hostname: string;
  resultType: number;
  lastPing: Date | null;
  /** Of every (unsuppressed) result, whatever the view shows: MAAS's set status, first start, last end. */
  status: number;
  started: Date | null;
  ended: Date | null;
  results: ScriptResultRow[];
}

export interface ResultsView {
  /** Script names, tags or result ids; undefined: every result. */
  filters?: string[];
  hardwareType?: number;
  includeOutput: boolean;
}

/** What op=signal says about one script's result, besides its files. */
export interface SignalResultInput {
  status: string;
  scriptResultId?: number;
  exitStatus?: number;
  runtime?: number;
  /** The WORKING signal's script name, when it has no id. */
  name?: string;
  files: ReadonlyMap<string, Buffer>;
}

const EXT_TO_KEY: Record<string, 'stdout' | 'stderr' | 'result'> = {
  '.out': 'stdout',
  '.err': 'stderr',
  '.yaml': 'result',
};
const CURRENT: Record<string, number> = {
  'current-commissioning': RESULT_TYPE.commissioning,
  'current-testing': RESULT_TYPE.testing,
  'current-installation': RESULT_TYPE.installation,
};
const RESULT_COLUMNS = `r.id, r.script_set_id AS "setId", r.script_name AS name, r.script_id AS "scriptId",
  r.script_version_id AS "scriptVersionId", r.status, r.exit_status AS "exitStatus", r.started, r.ended,
  r.parameters, r.physical_blockdevice_id AS "physicalBlockdeviceId", r.interface_id AS "interfaceId",
  r.suppressed, r.created, r.updated, coalesce(s.tags, '{}') AS tags,
  s.hardware_type AS "hardwareType", coalesce(s.timeout_seconds, 0) AS "timeoutSeconds"`;

export class ScriptResultService {
  constructor(
    private readonly db: DataSource,
    private readonly queries: Pick<MachineQueries, 'get'>,
  ) {}

  /** MAAS's MAASScriptsHandler: the tar the machine runs (maas-scripts-tar.ts); null: nothing to run. */
  maasScripts(machine: Machine): Promise<Buffer | null> {
    return maasScriptsTar(this.db, machine);
  }

  /**
   * op=signal's results (MAAS's _store_results + process_file): each file `<name>`, `<name>.out`,
   * `<name>.err`, `<name>.yaml` goes to the result `script_result_id` names, else to the set's
   * result of that script name (made on the fly, as MAAS does for a name it did not send); the
   * exit status decides passed or failed, TIMEDOUT times it out. WORKING with an id marks it
   * running. Nothing happens outside a commissioning or testing run.
   */
  async storeSignal(tx: EntityManager, machine: Machine, input: SignalResultInput): Promise<void> {
    const type = runningType(machine.status);
    if (type === null) return;
    const setId = await pingedRunSet(tx, machine, type, input.scriptResultId);
    const byId =
      input.scriptResultId === undefined
        ? undefined
        : (
            (await tx.query(`SELECT id, script_name AS name FROM script_results WHERE id = $1 AND script_set_id = $2`, [
              input.scriptResultId,
              setId,
            ])) as Array<{ id: number; name: string }>
          )[0];
    if (input.scriptResultId !== undefined && !byId)
      throw ValidationError.field(
        'script_result_id',
        `Script result ${input.scriptResultId} is not in this machine's current run.`,
      );
    const status = input.status.toUpperCase();
    if (status === 'WORKING' && input.files.size === 0) {
      const target =
        byId?.id ?? (input.name === undefined ? undefined : await this.resultByName(tx, setId, input.name));
      if (target !== undefined)
        await tx.query(
          `UPDATE script_results SET status = $2, started = coalesce(started, now()), updated = now()
            WHERE id = $1 AND status = ANY($3::smallint[])`,
          [
            target,
            SCRIPT_STATUS.RUNNING,
            [SCRIPT_STATUS.PENDING, SCRIPT_STATUS.APPLYING_NETCONF, SCRIPT_STATUS.INSTALLING],
          ],
        );
      return;
    }
    // Group the files by the result they belong to.
    const results = new Map<number, Partial<Record<'output' | 'stdout' | 'stderr' | 'result', Buffer>>>();
    for (const [fileName, content] of input.files) {
      const dot = fileName.lastIndexOf('.');
      const key = dot > 0 ? EXT_TO_KEY[fileName.slice(dot).toLowerCase()] : undefined;
      const name = key ? fileName.slice(0, dot) : fileName;
      const id = byId?.id ?? (await this.resultByName(tx, setId, name, true))!;
      results.set(id, { ...results.get(id), [key ?? 'output']: content });
    }
    const timedOut = status === 'TIMEDOUT';
    // No exit_status counts as 0 (MAAS's process_file), except on status=FAILED: MAAS would store a
    // failing signal's files as PASSED; here the script is FAILED, its exit status unknown (null).
    const exit = input.exitStatus ?? (status === 'FAILED' ? null : 0);
    for (const [id, files] of results) {
      const runtime = input.runtime !== undefined && input.runtime > 0 ? input.runtime : null;
      await tx.query(
        `UPDATE script_results SET
            status = $2, exit_status = $3,
            output = coalesce($4, output), stdout = coalesce($5, stdout), stderr = coalesce($6, stderr),
            result = coalesce($7, result),
            ended = now(),
            started = CASE WHEN $8::float8 IS NOT NULL THEN now() - make_interval(secs => $8::float8)
                           ELSE coalesce(started, now()) END,
            updated = now()
          WHERE id = $1`,
        [
          id,
          timedOut ? SCRIPT_STATUS.TIMEDOUT : exit === 0 ? SCRIPT_STATUS.PASSED : SCRIPT_STATUS.FAILED,
          timedOut ? null : exit,
          files.output ?? null,
          files.stdout ?? null,
          files.stderr ?? null,
          files.result ?? null,
          runtime,
        ],
      );
    }
  }

  /**
   * The machine said its tests are done (or failed): the failed scripts of this run's testing set
   * (none when the run has no tests), and those it never reported a result for (marked aborted, as
   * MAAS marks a run's pending and running results when its testing ends): either fails it
   * (FAILED_TESTING, naming them). An environment that says OK without running its tests fails.
   */
  async endTesting(tx: EntityManager, machine: Machine): Promise<{ failed: string[]; notRun: string[] }> {
    const setId = await runSetId(tx, machine, RESULT_TYPE.testing);
    if (setId === null) return { failed: [], notRun: [] };
    // A SELECT over the UPDATE: TypeORM hands an UPDATE's RETURNING back as [rows, count].
    const notRun: Array<{ name: string }> = await tx.query(
      `WITH aborted AS (UPDATE script_results SET status = $2, updated = now()
         WHERE script_set_id = $1 AND status = ANY($3::smallint[]) AND NOT suppressed RETURNING script_name)
       SELECT script_name AS name FROM aborted`,
      [setId, SCRIPT_STATUS.ABORTED, RUNNING_OR_PENDING],
    );
    return { failed: await endRun(tx, setId), notRun: [...new Set(notRun.map((r) => r.name))].sort() };
  }

  /** Whether this run (the machine's claim) has a testing set with a script to run. */
  async hasTests(tx: EntityManager, machine: Machine): Promise<boolean> {
    const setId = await runSetId(tx, machine, RESULT_TYPE.testing);
    if (setId === null) return false;
    const rows: unknown[] = await tx.query(`SELECT 1 FROM script_results WHERE script_set_id = $1 LIMIT 1`, [setId]);
    return rows.length > 0;
  }

  /** Whether this run's tests have begun: a testing result of its set is no longer pending. */
  async testsStarted(tx: EntityManager, machine: Machine): Promise<boolean> {
    const setId = await runSetId(tx, machine, RESULT_TYPE.testing);
    if (setId === null) return false;
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM script_results WHERE script_set_id = $1 AND status <> $2 LIMIT 1`,
      [setId, SCRIPT_STATUS.PENDING],
    );
    return rows.length > 0;
  }

  /** The set's result for a script name; `create`: made running when the set has none (MAAS's get_or_create). */
  private async resultByName(
    tx: EntityManager,
    setId: number,
    name: string,
    create = false,
  ): Promise<number | undefined> {
    const rows: Array<{ id: number }> = await tx.query(
      // A script run per disk has several results of its name: a signal naming only the script goes to the first.
      `SELECT id FROM script_results WHERE script_set_id = $1 AND script_name = $2 ORDER BY id LIMIT 1`,
      [setId, name],
    );
    if (rows[0] || !create) return rows[0]?.id;
    const [row] = (await tx.query(
      `INSERT INTO script_results (script_set_id, script_id, script_version_id, script_name, status, started)
       SELECT $1, s.id, (SELECT max(v.id) FROM script_versions v WHERE v.script_id = s.id), $2, $3, now()
         FROM (SELECT 1) one LEFT JOIN scripts s ON s.name = $2
       RETURNING id`,
      [setId, name, SCRIPT_STATUS.RUNNING],
    )) as Array<{ id: number }>;
    return row!.id;
  }

  /**
   * The machine said its commissioning is done: the scripts it never reported are marked skipped
   * (an environment that runs only some of them, as the one that uploads metalflow-hardware.json),
   * and the current run's failed scripts returned (MAAS then fails commissioning).
   */
  async endCommissioning(tx: EntityManager, machineId: number): Promise<string[]> {
    return endRun(tx, await currentScriptSetId(tx, machineId, RESULT_TYPE.commissioning));
  }

  /** A script's stdout (else its output) in the machine's current commissioning run, if it passed there. */
  async currentRunOutput(tx: EntityManager, machineId: number, scriptName: string): Promise<Buffer | null> {
    const setId = await currentScriptSetId(tx, machineId, RESULT_TYPE.commissioning);
    if (setId === null) return null;
    const rows: Array<{ output: Buffer }> = await tx.query(
      `SELECT coalesce(nullif(stdout, ''), output) AS output FROM script_results
        WHERE script_set_id = $1 AND script_name = $2 AND status = $3 ORDER BY id DESC LIMIT 1`,
      [setId, scriptName, SCRIPT_STATUS.PASSED],
    );
    return rows[0]?.output ?? null;
  }

  /** The latest output of a script for a machine (e.g. 00-maas-01-lshw's XML), from any passed run. */
  async latestOutput(manager: EntityManager, machineId: number, scriptName: string): Promise<Buffer | null> {
    const rows: Array<{ output: Buffer }> = await manager.query(
      `SELECT r.output FROM script_results r JOIN script_sets t ON t.id = r.script_set_id
        WHERE t.machine_id = $1 AND r.script_name = $2 AND r.status = $3 ORDER BY r.id DESC LIMIT 1`,
      [machineId, scriptName, SCRIPT_STATUS.PASSED],
    );
    return rows[0]?.output ?? null;
  }

  /** A visible machine's sets, newest first (`type`: only those of that result type). */
  async sets(
    caller: Principal,
    systemId: string,
    type: number | undefined,
    view: ResultsView,
  ): Promise<ScriptSetRow[]> {
    const m = (await this.queries.get(caller, systemId)).machine;
    const params: unknown[] = [m.id];
    const rows: Array<{ id: number; resultType: number; lastPing: Date | null }> = await this.db.query(
      `SELECT id, result_type AS "resultType", last_ping AS "lastPing" FROM script_sets
        WHERE machine_id = $1${type === undefined ? '' : ` AND result_type = $${params.push(type)}`} ORDER BY id DESC`,
      params,
    );
    return this.withResults(rows, m, view);
  }

  /** One set by id or current-commissioning/-testing/-installation (MAAS's wording when absent). */
  async set(caller: Principal, systemId: string, id: string, view: ResultsView): Promise<ScriptSetRow> {
    const m = (await this.queries.get(caller, systemId)).machine;
    const setId = await this.resolve(m, id);
    const rows: Array<{ id: number; resultType: number; lastPing: Date | null }> = await this.db.query(
      `SELECT id, result_type AS "resultType", last_ping AS "lastPing" FROM script_sets WHERE id = $1`,
      [setId],
    );
    return (await this.withResults(rows, m, view))[0]!;
  }

  /** Deletes a set and its results (the policy already decided the caller may). */
  async deleteSet(caller: Principal, systemId: string, id: string): Promise<void> {
    const m = (await this.queries.get(caller, systemId)).machine;
    const setId = await this.resolve(m, id);
    await this.db.query(`DELETE FROM script_sets WHERE id = $1`, [setId]);
  }

  private async resolve(m: { id: number }, id: string): Promise<number> {
    const current = CURRENT[id];
    if (current !== undefined) {
      const setId = await currentScriptSetId(this.db.manager, m.id, current);
      if (setId === null)
        throw ValidationError.field('__all__', `No ${id.replace('-', ' ')} script set exists for this node.`);
      return setId;
    }
    if (!/^\d{1,9}$/.test(id))
      throw ValidationError.field(
        '__all__',
        `Unknown id "${id}" must be current-commissioning, current-testing, current-installation, or the id number of a specific result.`,
      );
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM script_sets WHERE id = $1 AND machine_id = $2`, [
      Number(id),
      m.id,
    ]);
    if (rows.length === 0) throw new NotFoundError('No ScriptSet matches the given query.');
    return Number(id);
  }

  private async withResults(
    sets: Array<{ id: number; resultType: number; lastPing: Date | null }>,
    m: { systemId: string; hostname: string },
    view: ResultsView,
  ): Promise<ScriptSetRow[]> {
    if (sets.length === 0) return [];
    const results: ScriptResultRow[] = await this.db.query(
      `SELECT ${RESULT_COLUMNS}${view.includeOutput ? ', r.output, r.stdout, r.stderr, r.result' : ''}
         FROM script_results r LEFT JOIN scripts s ON s.id = r.script_id
        WHERE r.script_set_id = ANY($1::int[]) ORDER BY r.script_name, r.id`,
      [sets.map((s) => s.id)],
    );
    const shown = (r: ScriptResultRow) =>
      (view.filters === undefined ||
        view.filters.some((f) => f === r.name || r.tags.includes(f) || f === String(r.id))) &&
      (view.hardwareType === undefined || r.hardwareType === view.hardwareType);
    return sets.map((s) => {
      const all = results.filter((r) => r.setId === s.id && !r.suppressed);
      const status = overallStatus(all.map((r) => r.status));
      const times = (xs: Array<Date | null>) => xs.filter((x): x is Date => x !== null).map((x) => x.getTime());
      const starts = times(all.map((r) => r.started));
      const ends = times(all.map((r) => r.ended));
      const finished = all.length > 0 && all.every((r) => !RUNNING_OR_PENDING.includes(r.status));
      return {
        id: s.id,
        systemId: m.systemId,
        hostname: m.hostname,
        resultType: s.resultType,
        lastPing: s.lastPing,
        status,
        started: starts.length ? new Date(Math.min(...starts)) : null,
        ended: finished && ends.length ? new Date(Math.max(...ends)) : null,
        results: results.filter((r) => r.setId === s.id && shown(r)),
      };
    });
  }
}

/** A run's end: its failed scripts by name; the scripts it never reported are marked skipped. */
async function endRun(tx: EntityManager, setId: number | null): Promise<string[]> {
  if (setId === null) return [];
  const rows: Array<{ name: string }> = await tx.query(
    `SELECT script_name AS name FROM script_results WHERE script_set_id = $1 AND status = ANY($2::smallint[])
      ORDER BY script_name`,
    [setId, [SCRIPT_STATUS.FAILED, SCRIPT_STATUS.TIMEDOUT, SCRIPT_STATUS.FAILED_INSTALLING]],
  );
  await tx.query(`UPDATE script_results SET status = $2, updated = now() WHERE script_set_id = $1 AND status = $3`, [
    setId,
    SCRIPT_STATUS.SKIPPED,
    SCRIPT_STATUS.PENDING,
  ]);
  // A script run per disk or interface is named once however many of its runs failed.
  return [...new Set(rows.map((r) => r.name))];
}
