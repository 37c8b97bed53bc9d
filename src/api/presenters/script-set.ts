// A machine's script set with its results, in MAAS's NodeScriptResultHandler shape.
import type { ScriptResultRow, ScriptSetRow } from '../../region/services/scripts/script-results';
import { RESULT_TYPE_NAME, rfc2822, SCRIPT_STATUS_NAME } from './script-types';

const time = (d: Date | null) => (d === null ? null : rfc2822(d));
/** MAAS's ScriptResult.runtime: H:MM:SS of ended - started, '' until both are known. */
function runtime(started: Date | null, ended: Date | null): string {
  if (started === null || ended === null) return '';
  const s = Math.max(0, Math.round((ended.getTime() - started.getTime()) / 1000));
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
/** MAAS's estimated_runtime: the runtime once run, else the script's timeout, else Unknown. */
function estimated(r: ScriptResultRow): string {
  if (r.started !== null && r.ended !== null) return runtime(r.started, r.ended);
  return r.timeoutSeconds > 0 ? runtime(new Date(0), new Date(r.timeoutSeconds * 1000)) : 'Unknown';
}

/** A password parameter's value is never shown over the API (MAAS: REDACTED). */
function redacted(parameters: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(parameters).map(([k, v]) => {
      const p = v as Record<string, unknown> | null;
      return [k, p && typeof p === 'object' && p.type === 'password' && 'value' in p ? { ...p, value: 'REDACTED' } : v];
    }),
  );
}

export function presentResult(r: ScriptResultRow): Record<string, unknown> {
  const b64 = (b: Buffer | undefined) => (b ?? Buffer.alloc(0)).toString('base64');
  return {
    id: r.id,
    created: rfc2822(r.created),
    updated: rfc2822(r.updated),
    name: r.name,
    status: r.status,
    status_name: SCRIPT_STATUS_NAME[r.status],
    exit_status: r.exitStatus,
    started: time(r.started),
    ended: time(r.ended),
    runtime: runtime(r.started, r.ended),
    starttime: r.started === null ? '' : r.started.getTime() / 1000,
    endtime: r.ended === null ? '' : r.ended.getTime() / 1000,
    estimated_runtime: estimated(r),
    parameters: redacted(r.parameters),
    // MAAS's ScriptResult.physical_blockdevice / interface: the hardware a storage or interface parameter chose.
    physical_blockdevice: r.physicalBlockdeviceId,
    interface: r.interfaceId,
    script_id: r.scriptId,
    script_revision_id: r.scriptVersionId,
    suppressed: r.suppressed,
    ...(r.output !== undefined
      ? { output: b64(r.output), stdout: b64(r.stdout), stderr: b64(r.stderr), result: b64(r.result) }
      : {}),
  };
}

export function presentScriptSet(set: ScriptSetRow): Record<string, unknown> {
  return {
    id: set.id,
    system_id: set.systemId,
    type: set.resultType,
    type_name: RESULT_TYPE_NAME[set.resultType],
    last_ping: time(set.lastPing),
    status: set.status,
    status_name: SCRIPT_STATUS_NAME[set.status],
    started: time(set.started),
    ended: time(set.ended),
    runtime: runtime(set.started, set.ended),
    results: set.results.map(presentResult),
    suppressed: false,
    resource_uri: `/MAAS/api/2.0/nodes/${set.systemId}/results/${set.id}/`,
  };
}
