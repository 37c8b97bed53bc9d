// MAAS's ScriptSet.regenerate for the tests a commissioning goes on to: their storage and interface
// parameters were resolved against the hardware on record when the request came (none at all for
// a NEW machine: MAAS's `all` placeholder, which the environment cannot run). Once this
// commissioning has recorded the hardware, each such test's results are made again from what the
// request asked (script_results.requested), as if the request came now: `all` (or no value) is
// one result per disk or interface found, a disk the request named is that disk again. The
// environment fetches the scripts again after commissioning (runner.sh, as MAAS's
// maas-run-remote-scripts), so it runs the new results.
// Unlike MAAS, a disk or interface the request named stays the one it named: MAAS resets every
// storage parameter to its default here, which would turn a destructive test asked for one disk
// into a test of every disk. A named device commissioning no longer finds keeps its result, which
// the environment then fails, saying the device was not found.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../../db/entities';
import { ValidationError } from '../../errors';
import { SCRIPT_STATUS } from './script-enums';
import { resolveRuns, type DeclaredParameter } from './script-parameters';
import { loadHardware, storeRuns, type RequestedParameters } from './script-set-parameters';
import { RESULT_TYPE, runSetId } from './script-sets';

const HARDWARE_TYPES = ['storage', 'interface'];

type StoredParameters = Record<string, DeclaredParameter & { value?: unknown }>;

interface PendingRun {
  id: number;
  scriptId: number;
  name: string;
  parameters: StoredParameters;
  requested: RequestedParameters;
  declared: Record<string, DeclaredParameter> | null;
  timeoutSeconds: number;
}

/** In the transaction that recorded the run's hardware: its pending tests per device, made again. */
export async function regenerateTestingRuns(tx: EntityManager, machine: Machine): Promise<void> {
  const setId = await runSetId(tx, machine, RESULT_TYPE.testing);
  if (setId === null) return;
  const pending: PendingRun[] = await tx.query(
    `SELECT r.id, r.script_id AS "scriptId", r.script_name AS name, r.parameters, r.requested,
            s.parameters AS declared, s.timeout_seconds AS "timeoutSeconds"
       FROM script_results r JOIN scripts s ON s.id = r.script_id
      WHERE r.script_set_id = $1 AND r.status = $2
        AND EXISTS (SELECT 1 FROM jsonb_each(r.parameters) p WHERE p.value->>'type' = ANY($3::text[]))
      ORDER BY r.id`,
    [setId, SCRIPT_STATUS.PENDING, HARDWARE_TYPES],
  );
  if (pending.length === 0) return;
  // A script's results per device came from one request: made again once, from its first.
  const byScript = new Map<number, PendingRun[]>();
  for (const r of pending) byScript.set(r.scriptId, [...(byScript.get(r.scriptId) ?? []), r]);
  const hw = await loadHardware(tx, machine.id);
  for (const [first, ...rest] of byScript.values()) {
    if (!first) continue;
    const requested = first.requested ?? placeholderRequest(first, rest);
    if (requested === null) continue;
    const given = new Map(
      Object.entries(requested).map(([name, value]) => [name, { field: `${first.name}_${name}`, value }]),
    );
    let runs;
    try {
      runs = resolveRuns(
        { name: first.name, timeoutSeconds: first.timeoutSeconds, declared: first.declared ?? {} },
        given,
        hw,
      );
    } catch (err) {
      // A device the request named is gone: its results stay as they were (see above).
      if (err instanceof ValidationError) continue;
      throw err;
    }
    // Still no hardware to run on: the placeholder stays, as it was.
    if (runs.every((r) => r.physicalBlockdeviceId === null && r.interfaceId === null)) continue;
    if (rest.length > 0)
      await tx.query(`DELETE FROM script_results WHERE id = ANY($1::int[])`, [rest.map((r) => r.id)]);
    await storeRuns(tx, first.id, runs, requested);
  }
}

/**
 * A result made before the request was kept with it (migration 0050): only the `all` placeholder
 * is made again, from the other parameters' values; one already on a device is left alone, since
 * whether the request named that device cannot be told.
 */
function placeholderRequest(first: PendingRun, rest: readonly PendingRun[]): Record<string, string> | null {
  if (rest.length > 0) return null;
  const params = Object.entries(first.parameters);
  const isPlaceholder = ([, p]: [string, DeclaredParameter & { value?: unknown }]) =>
    HARDWARE_TYPES.includes(p.type ?? '') && p.value === 'all';
  if (!params.some(isPlaceholder)) return null;
  const requested: Record<string, string> = {};
  for (const [name, p] of params) {
    if (isPlaceholder([name, p]) || p.value === undefined || p.value === null || typeof p.value === 'object') continue;
    requested[name] = String(p.value as string | number | boolean);
  }
  return requested;
}
