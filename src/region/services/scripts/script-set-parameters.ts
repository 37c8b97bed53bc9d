// A new run's results given their parameters (script-parameters.ts resolves them): a step in the
// operation's start transaction, so a refused parameter (a 400) leaves no set, no result and no
// status change behind. A script that runs on several disks or interfaces gets one pending result
// each (MAAS's ScriptSet: one ScriptResult per parameter set), naming the disk or interface.
import type { EntityManager } from 'typeorm';
import { SCRIPT_STATUS } from './script-enums';
import {
  assignInput,
  resolveRuns,
  type DeclaredParameter,
  type MachineHardware,
  type ParameterizedRun,
  type ParameterizedScript,
} from './script-parameters';

/** The request's script parameters: `<script>_<parameter>` or `<parameter>` → value. */
export type ScriptParameterInput = Readonly<Record<string, string>>;

const NO_HARDWARE: MachineHardware = { fqdn: '', systemId: '', disks: [], nics: [] };

interface PendingResult {
  id: number;
  setId: number;
  scriptId: number;
  name: string;
  declared: Record<string, DeclaredParameter> | null;
  timeoutSeconds: number;
}

/**
 * Resolves the parameters of the pending results in `setIds` (the sets this run just made) from
 * `input` and the machine's hardware, and stores them: the first result of a script takes its
 * first run, each further run is a new pending result. Running it again with other input redoes
 * it (the results a former call added for more disks are removed first), so a run's sets made in
 * separate steps (commissioning, then its tests) are resolved together, every name checked
 * against all of them.
 */
export async function applyScriptParameters(
  tx: EntityManager,
  machineId: number,
  setIds: readonly number[],
  input: ScriptParameterInput,
  /** false for a set's defaults: the request's values (applyRunParameters) come after. */
  enforceRequired = true,
): Promise<void> {
  const rows: PendingResult[] = await tx.query(
    `SELECT r.id, r.script_set_id AS "setId", r.script_id AS "scriptId", r.script_name AS name,
            s.parameters AS declared, s.timeout_seconds AS "timeoutSeconds"
       FROM script_results r JOIN scripts s ON s.id = r.script_id
      WHERE r.script_set_id = ANY($1::int[]) AND r.status = $2
      ORDER BY r.id`,
    [setIds, SCRIPT_STATUS.PENDING],
  );
  const firsts = new Map<string, PendingResult>();
  const extras: number[] = [];
  for (const r of rows) {
    const key = `${r.setId}/${r.scriptId}`;
    if (firsts.has(key)) extras.push(r.id);
    else firsts.set(key, r);
  }
  const scripts: ParameterizedScript[] = [];
  for (const r of firsts.values())
    if (!scripts.some((s) => s.name === r.name))
      scripts.push({ name: r.name, timeoutSeconds: r.timeoutSeconds, declared: r.declared ?? {} });
  const given = assignInput(scripts, input);
  // A request with no parameters over sets whose defaults ensureScriptSet already stored: nothing
  // to rewrite, only a required parameter left without a value to refuse.
  if (enforceRequired && Object.keys(input).length === 0) {
    for (const script of scripts) resolveRuns(script, undefined, NO_HARDWARE, true);
    return;
  }
  const needsHardware = scripts.some((s) =>
    Object.values(s.declared).some((p) => p.type === 'storage' || p.type === 'interface'),
  );
  const hw = needsHardware ? await loadHardware(tx, machineId) : undefined;
  const resolved = [...firsts.values()].map((r) => ({
    result: r,
    runs: resolveRuns(
      scripts.find((s) => s.name === r.name)!,
      given.get(r.name),
      hw ?? NO_HARDWARE,
      enforceRequired,
    ),
  }));
  if (extras.length > 0) await tx.query(`DELETE FROM script_results WHERE id = ANY($1::int[])`, [extras]);
  await storeAllRuns(
    tx,
    resolved.map(({ result, runs }) => ({ resultId: result.id, runs, requested: requestedOf(given.get(result.name)) })),
  );
}

/** What the request asked of one script, by parameter name ({}: nothing, its defaults; null: a result from before migration 0050). */
export type RequestedParameters = Record<string, string> | null;

function requestedOf(given: ReadonlyMap<string, { value: string }> | undefined): Record<string, string> {
  return Object.fromEntries([...(given ?? [])].map(([name, g]) => [name, g.value]));
}

/** A pending result's runs: the first run is stored in it, each further one is a new pending result of its set. */
export interface ResultRuns {
  resultId: number;
  runs: readonly ParameterizedRun[];
  requested: RequestedParameters;
}

/** One result's runs (storeAllRuns for one). */
export function storeRuns(
  tx: EntityManager,
  resultId: number,
  runs: readonly ParameterizedRun[],
  requested: RequestedParameters,
): Promise<void> {
  return storeAllRuns(tx, [{ resultId, runs, requested }]);
}

/**
 * Every result's runs in two statements whatever their number (a run's start stores a result per
 * script, in the request's transaction): the first runs updated in place, then the further runs
 * inserted in the order given, each copying its result's set, script and (updated) request.
 */
export async function storeAllRuns(tx: EntityManager, items: readonly ResultRuns[]): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `UPDATE script_results r
        SET parameters = u.parameters, physical_blockdevice_id = u.disk, interface_id = u.nic, requested = u.requested
       FROM unnest($1::int[], $2::jsonb[], $3::int[], $4::int[], $5::jsonb[]) AS u(id, parameters, disk, nic, requested)
      WHERE r.id = u.id`,
    [
      items.map((i) => i.resultId),
      items.map((i) => JSON.stringify(i.runs[0]!.parameters)),
      items.map((i) => i.runs[0]!.physicalBlockdeviceId),
      items.map((i) => i.runs[0]!.interfaceId),
      items.map((i) => (i.requested === null ? null : JSON.stringify(i.requested))),
    ],
  );
  const more = items.flatMap((i) => i.runs.slice(1).map((run) => ({ source: i.resultId, run })));
  if (more.length > 0)
    await tx.query(
      `INSERT INTO script_results
         (script_set_id, script_id, script_version_id, script_name, parameters, physical_blockdevice_id, interface_id,
          requested)
       SELECT r.script_set_id, r.script_id, r.script_version_id, r.script_name, p.parameters, p.disk, p.nic, r.requested
         FROM unnest($1::int[], $2::jsonb[], $3::int[], $4::int[]) WITH ORDINALITY AS p(source, parameters, disk, nic, ord)
         JOIN script_results r ON r.id = p.source
        ORDER BY p.ord`,
      [
        more.map((m) => m.source),
        more.map((m) => JSON.stringify(m.run.parameters)),
        more.map((m) => m.run.physicalBlockdeviceId),
        more.map((m) => m.run.interfaceId),
      ],
    );
}

/** The machine's physical disks and its enabled interfaces with no children (MAAS's choices). */
export async function loadHardware(tx: EntityManager, machineId: number): Promise<MachineHardware> {
  const [machine] = (await tx.query(
    `SELECT hostname || '.' || domain AS fqdn, system_id AS "systemId" FROM machines WHERE id = $1`,
    [machineId],
  )) as Array<{ fqdn: string; systemId: string }>;
  const disks: MachineHardware['disks'] = await tx.query(
    `SELECT id, name, id_path AS "idPath", model, serial, tags FROM storage_block_devices
      WHERE machine_id = $1 AND type = 'physical' ORDER BY name, id`,
    [machineId],
  );
  const nics: MachineHardware['nics'] = await tx.query(
    `SELECT i.id, i.name, i.mac_address::text AS "macAddress", i.tags FROM interfaces i
      WHERE i.machine_id = $1 AND i.enabled
        AND NOT EXISTS (SELECT 1 FROM interface_parents p WHERE p.parent_id = i.id)
      ORDER BY i.name, i.id`,
    [machineId],
  );
  return { fqdn: machine!.fqdn, systemId: machine!.systemId, disks, nics };
}
