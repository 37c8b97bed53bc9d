// A machine's commissioning as MAAS's script set (NodeScriptResultHandler's fields): one result,
// the built-in script's hardware report. Its start is not recorded, so `started` is null and
// `runtime` empty, as MAAS shows a result whose start it does not know.
import type { CommissioningSet } from '../../region/services/node-results';
import { BUILTIN_SCRIPT } from './script';
import { RESULT_TYPE_NAME, rfc2822, SCRIPT_STATUS_PASSED } from './script-types';

export interface ScriptSetView {
  includeOutput: boolean;
  /** MAAS's filters: script names, tags or result ids; undefined shows every result. */
  filters?: string[];
  hardwareType?: number;
}

export function presentScriptSet(set: CommissioningSet, view: ScriptSetView): Record<string, unknown> {
  const ended = rfc2822(set.reportedAt);
  const s = BUILTIN_SCRIPT;
  const matches =
    (view.filters === undefined ||
      view.filters.some((f) => f === s.name || (s.tags as readonly string[]).includes(f) || f === String(set.id))) &&
    (view.hardwareType === undefined || view.hardwareType === s.hardwareType);
  const output = Buffer.from(JSON.stringify(set.report)).toString('base64');
  const result = {
    id: set.id,
    created: ended,
    updated: ended,
    name: s.name,
    status: SCRIPT_STATUS_PASSED.status,
    status_name: SCRIPT_STATUS_PASSED.name,
    exit_status: 0,
    started: null,
    ended,
    runtime: '',
    starttime: '',
    endtime: set.reportedAt.getTime() / 1000,
    estimated_runtime: 'Unknown',
    parameters: {},
    script_id: s.id,
    script_revision_id: s.id,
    suppressed: false,
    ...(view.includeOutput ? { output, stdout: output, stderr: '', result: '' } : {}),
  };
  return {
    id: set.id,
    system_id: set.systemId,
    type: 0,
    type_name: RESULT_TYPE_NAME[0],
    last_ping: ended,
    status: SCRIPT_STATUS_PASSED.status,
    status_name: SCRIPT_STATUS_PASSED.name,
    started: null,
    ended,
    runtime: '',
    results: matches ? [result] : [],
    suppressed: false,
    resource_uri: `/MAAS/api/2.0/nodes/${set.systemId}/results/${set.id}/`,
  };
}
