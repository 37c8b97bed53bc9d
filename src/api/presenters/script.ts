// A stored script in MAAS's NodeScriptHandler shape.
import type { ScriptRow } from '../../region/services/scripts/scripts';
import { HARDWARE_TYPE_NAME, PARALLEL_NAME, rfc2822, SCRIPT_TYPE_NAME } from './script-types';

/** Python's str(timedelta) of whole seconds, as MAAS shows a script's timeout: `0:05:00`, `1 day, 2:00:00`. */
export function timedelta(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  const hms = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days === 0 ? hms : `${days} day${days === 1 ? '' : 's'}, ${hms}`;
}

export function presentScript(s: ScriptRow, includeScript: boolean): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    title: s.title,
    description: s.description,
    tags: s.tags,
    type: s.scriptType,
    type_name: SCRIPT_TYPE_NAME[s.scriptType],
    hardware_type: s.hardwareType,
    hardware_type_name: HARDWARE_TYPE_NAME[s.hardwareType],
    parallel: s.parallel,
    parallel_name: PARALLEL_NAME[s.parallel],
    results: s.results,
    parameters: s.parameters,
    packages: s.packages,
    timeout: timedelta(s.timeoutSeconds),
    destructive: s.destructive,
    for_hardware: s.forHardware,
    may_reboot: s.mayReboot,
    recommission: s.recommission,
    default: s.isDefault,
    apply_configured_networking: s.applyConfiguredNetworking,
    history: s.history.map((v) => ({
      id: v.id,
      comment: v.comment,
      created: rfc2822(v.created),
      ...(includeScript ? { data: v.data.toString('base64') } : {}),
    })),
    resource_uri: `/MAAS/api/2.0/scripts/${s.name}`,
  };
}
