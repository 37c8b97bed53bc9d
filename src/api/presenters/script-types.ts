// MAAS's script and result type names (metadataserver/enum.py) and how its API reads them
// (translate_script_type, translate_hardware_type, translate_result_type): a number or a word.
import { ValidationError } from '../../region/errors';

export const SCRIPT_TYPE = { commissioning: 0, testing: 2, release: 3 } as const;
export const SCRIPT_TYPE_NAME: Record<number, string> = {
  0: 'Commissioning script',
  2: 'Testing script',
  3: 'Release script',
};
export const HARDWARE_TYPE_NAME: Record<number, string> = {
  0: 'Node',
  1: 'CPU',
  2: 'Memory',
  3: 'Storage',
  4: 'Network',
  5: 'GPU',
};
export const RESULT_TYPE_NAME: Record<number, string> = {
  0: 'Commissioning',
  1: 'Testing',
  2: 'Installation',
  3: 'Release',
};
/** MAAS's SCRIPT_STATUS.PASSED: the one status a stored hardware report has. */
export const SCRIPT_STATUS_PASSED = { status: 2, name: 'Passed' } as const;

const SCRIPT_TYPE_WORDS: Record<string, number> = {
  test: 2,
  testing: 2,
  commission: 0,
  commissioning: 0,
  release: 3,
};
const HARDWARE_TYPE_WORDS: Record<string, number> = {
  node: 0,
  machine: 0,
  controller: 0,
  other: 0,
  generic: 0,
  cpu: 1,
  processor: 1,
  memory: 2,
  ram: 2,
  storage: 3,
  disk: 3,
  ssd: 3,
  network: 4,
  net: 4,
  interface: 4,
  gpu: 5,
  graphics: 5,
};
const RESULT_TYPE_WORDS: Record<string, number> = {
  commission: 0,
  commissioning: 0,
  test: 1,
  testing: 1,
  install: 2,
  installation: 2,
  release: 3,
};

function translate(field: string, value: string, words: Record<string, number>, names: Record<number, string>) {
  const v = value.trim().toLowerCase();
  const n = /^\d+$/.test(v) ? Number(v) : words[v];
  if (n === undefined || names[n] === undefined)
    throw ValidationError.field(
      field,
      `Unknown ${field} "${value}": must be the numeric value or one of ${Object.keys(words).join(', ')}.`,
    );
  return n;
}

export const translateScriptType = (v: string) => translate('type', v, SCRIPT_TYPE_WORDS, SCRIPT_TYPE_NAME);
export const translateHardwareType = (v: string) =>
  translate('hardware_type', v, HARDWARE_TYPE_WORDS, HARDWARE_TYPE_NAME);
export const translateResultType = (v: string) => translate('type', v, RESULT_TYPE_WORDS, RESULT_TYPE_NAME);

/** Python's email.utils.format_datetime of an aware UTC datetime, as MAAS's script APIs emit times. */
export function rfc2822(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}
