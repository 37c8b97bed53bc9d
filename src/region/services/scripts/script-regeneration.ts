// MAAS's ScriptSet.regenerate for the tests a commissioning goes on to: a test with a storage or
// interface parameter chosen before the machine's hardware was known (a NEW machine has no disks
// or interfaces on record) holds the `all` placeholder, which the environment cannot run. Once this
// commissioning has recorded the hardware, each such result becomes one result per disk or
// interface, as if the request had come now. The environment fetches the scripts again after
// commissioning (runner.sh, as MAAS's maas-run-remote-scripts), so it runs the new results.
// Unlike MAAS, a result already pinned to a disk or interface the request named is left as it is:
// MAAS resets every storage parameter to its default here, which would turn a destructive test
// asked for one disk into a test of every disk.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../../db/entities';
import { ValidationError } from '../../errors';
import { SCRIPT_STATUS } from './script-enums';
import { resolveRuns, type DeclaredParameter } from './script-parameters';
import { loadHardware, storeRuns } from './script-set-parameters';
import { RESULT_TYPE, runSetId } from './script-sets';

const HARDWARE_TYPES = ['storage', 'interface'];

type StoredParameters = Record<string, DeclaredParameter & { value?: unknown }>;

interface Placeholder {
  id: number;
  name: string;
  parameters: StoredParameters;
  declared: Record<string, DeclaredParameter> | null;
  timeoutSeconds: number;
}

/** In the transaction that recorded the run's hardware: its tests' `all` placeholders become a result per device. */
export async function regenerateTestingRuns(tx: EntityManager, machine: Machine): Promise<void> {
  const setId = await runSetId(tx, machine, RESULT_TYPE.testing);
  if (setId === null) return;
  const placeholders: Placeholder[] = await tx.query(
    `SELECT r.id, r.script_name AS name, r.parameters, s.parameters AS declared, s.timeout_seconds AS "timeoutSeconds"
       FROM script_results r JOIN scripts s ON s.id = r.script_id
      WHERE r.script_set_id = $1 AND r.status = $2
        AND EXISTS (SELECT 1 FROM jsonb_each(r.parameters) p
                     WHERE p.value->>'type' = ANY($3::text[]) AND p.value->'value' = '"all"'::jsonb)
      ORDER BY r.id`,
    [setId, SCRIPT_STATUS.PENDING, HARDWARE_TYPES],
  );
  if (placeholders.length === 0) return;
  const hw = await loadHardware(tx, machine.id);
  for (const p of placeholders) {
    const given = new Map<string, { field: string; value: string }>();
    for (const [name, param] of Object.entries(p.parameters)) {
      // The placeholder itself goes: resolved again it is the declared default, `all` when none.
      if (HARDWARE_TYPES.includes(param.type ?? '') && param.value === 'all') continue;
      const value = valueOf(param);
      if (value !== undefined) given.set(name, { field: `${p.name}_${name}`, value });
    }
    let runs;
    try {
      runs = resolveRuns({ name: p.name, timeoutSeconds: p.timeoutSeconds, declared: p.declared ?? {} }, given, hw);
    } catch (err) {
      // Still unresolvable (e.g. a declared default naming a disk this machine lacks): the result
      // stays a placeholder, which the environment fails with what it was given.
      if (err instanceof ValidationError) continue;
      throw err;
    }
    if (runs.every((r) => r.physicalBlockdeviceId === null && r.interfaceId === null)) continue;
    await storeRuns(tx, p.id, runs);
  }
}

/** A stored parameter's value as the request would have given it (a device by its name). */
function valueOf(param: DeclaredParameter & { value?: unknown }): string | undefined {
  const v = param.value;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') {
    const name = (v as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  }
  return String(v as string | number | boolean);
}
