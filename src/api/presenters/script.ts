// The built-in commissioning script metalflow runs (collect_hardware in maas-run-scripts.sh, which
// the ephemeral image's init runs), in MAAS's NodeScriptHandler shape. It is the only script:
// user scripts are issue 20.
import { HARDWARE_FILE } from '../../contracts/hardware';
import { runScriptsSource } from '../run-scripts/source';
import { HARDWARE_TYPE_NAME, SCRIPT_TYPE, SCRIPT_TYPE_NAME } from './script-types';

export const BUILTIN_SCRIPT = {
  id: 1,
  /** The result it writes carries the same name, as MAAS's script results carry their script's. */
  name: HARDWARE_FILE,
  title: 'Hardware report',
  description:
    "metalflow's built-in commissioning: CPU, memory, block devices, network interfaces and DMI, reported as one JSON document.",
  tags: ['node', 'commissioning'],
  type: SCRIPT_TYPE.commissioning,
  hardwareType: 0,
  /** The ephemeral environment's deadline for the whole of commissioning (images/ephemeral/init). */
  timeout: '0:15:00',
} as const;

export function presentBuiltinScript(includeScript: boolean): Record<string, unknown> {
  const s = BUILTIN_SCRIPT;
  return {
    id: s.id,
    name: s.name,
    title: s.title,
    description: s.description,
    tags: [...s.tags],
    type: s.type,
    type_name: SCRIPT_TYPE_NAME[s.type],
    hardware_type: s.hardwareType,
    hardware_type_name: HARDWARE_TYPE_NAME[s.hardwareType],
    parallel: 0,
    parallel_name: 'Disabled',
    results: {},
    parameters: {},
    packages: {},
    timeout: s.timeout,
    destructive: false,
    for_hardware: [],
    may_reboot: false,
    recommission: false,
    default: true,
    apply_configured_networking: false,
    history: [
      {
        id: s.id,
        comment: 'Built in.',
        ...(includeScript ? { data: runScriptsSource().toString('base64') } : {}),
      },
    ],
    resource_uri: `/MAAS/api/2.0/scripts/${s.name}`,
  };
}
