// The maas-scripts tar the metadata server hands a machine (MAAS's MAASScriptsHandler): the scripts
// its current run still has to run, with index.json in the shape the environment's runner reads.
import type { DataSource, EntityManager } from 'typeorm';
import type { Machine } from '../../db/entities';
import { RUNNING_OR_PENDING, SCRIPT_STATUS } from './script-enums';
import { ensureScriptSet, RESULT_TYPE, runningType, runSetId } from './script-sets';
import { tarArchive, type TarEntry } from './tar';

/**
 * MAAS's MAASScriptsHandler: the tar of the scripts the machine still has to run in its current
 * run (commissioning or testing) with index.json; null (MAAS's 204) when there is nothing to run.
 */
export async function maasScriptsTar(db: DataSource, machine: Machine): Promise<Buffer | null> {
  const type = runningType(machine.status);
  if (type === null) return null;
  return db.transaction(async (tx) => {
    const setId = await ensureScriptSet(tx, machine.id, type, machine.claimToken);
    // A commissioning given testing scripts lists them too: the environment runs them after
    // signalling TESTING, from this same index (MAAS's index has both sections).
    const tests = type === RESULT_TYPE.commissioning ? await runSetId(tx, machine, RESULT_TYPE.testing) : null;
    const now = new Date();
    const entries: TarEntry[] = [];
    const index: Record<string, unknown[]> = {};
    for (const [prefix, id] of [
      [type === RESULT_TYPE.testing ? 'testing' : 'commissioning', setId],
      ['testing', tests],
    ] as const) {
      if (id === null) continue;
      const meta = await section(tx, id, prefix, now, entries);
      if (meta.length > 0) index[`${prefix}_scripts`] = meta;
    }
    if (entries.length === 0) return null;
    entries.push({
      path: 'index.json',
      data: Buffer.from(JSON.stringify({ '1.0': index })),
      mode: 0o644,
      mtime: now,
    });
    return tarArchive(entries);
  });
}

/** One section of index.json (the set's scripts still to run), their files added to `entries`. */
async function section(
  tx: EntityManager,
  setId: number,
  prefix: 'commissioning' | 'testing',
  now: Date,
  entries: TarEntry[],
): Promise<unknown[]> {
  const rows: Array<{
    id: number;
    name: string;
    status: number;
    parameters: unknown;
    versionId: number | null;
    data: Buffer | null;
    timeoutSeconds: number;
    parallel: number;
    hardwareType: number;
    packages: unknown;
    forHardware: string[];
    applyConfiguredNetworking: boolean;
    isDefault: boolean;
    tags: string[];
  }> = await tx.query(
    `SELECT r.id, r.script_name AS name, r.status, r.parameters, r.script_version_id AS "versionId", v.data,
            s.timeout_seconds AS "timeoutSeconds", s.parallel, s.hardware_type AS "hardwareType", s.packages,
            s.for_hardware AS "forHardware", s.apply_configured_networking AS "applyConfiguredNetworking",
            s.is_default AS "isDefault", s.tags
       FROM script_results r JOIN scripts s ON s.id = r.script_id
       LEFT JOIN script_versions v ON v.id = r.script_version_id
      WHERE r.script_set_id = $1 AND r.status = ANY($2::smallint[])
      ORDER BY r.script_name, r.id`,
    [setId, RUNNING_OR_PENDING],
  );
  return rows.map((r) => {
    const path = `${prefix}/${r.name}`;
    // A script run once per disk or interface has one file for all its results.
    if (!entries.some((e) => e.path === path))
      entries.push({ path, data: r.data ?? Buffer.alloc(0), mode: 0o755, mtime: now });
    return {
      name: r.name,
      script_result_id: r.id,
      script_version_id: r.versionId,
      // A runtime parameter is the run's timeout (runner.sh's SCRIPT_TIMEOUT): the entry says so, so
      // the environment's last-resort poweroff guard, summed from these, leaves it the time.
      timeout_seconds: runtimeOf(r.parameters) ?? r.timeoutSeconds,
      parallel: r.parallel,
      hardware_type: r.hardwareType,
      parameters: r.parameters,
      packages: r.packages,
      for_hardware: r.forHardware,
      apply_configured_networking: r.applyConfiguredNetworking,
      has_started: r.status !== SCRIPT_STATUS.PENDING,
      has_finished: false,
      default: r.isDefault,
      tags: r.tags,
      path,
    };
  });
}

/** The value of a run's runtime parameter, if it has one (seconds). */
function runtimeOf(parameters: unknown): number | undefined {
  if (!parameters || typeof parameters !== 'object') return undefined;
  for (const p of Object.values(parameters as Record<string, { type?: unknown; value?: unknown }>))
    if (p?.type === 'runtime' && typeof p.value === 'number' && p.value > 0) return p.value;
  return undefined;
}
