// MAAS's script and result type names (metadataserver/enum.py) and how its API reads them
// (translate_script_type, translate_hardware_type, translate_result_type): a number or a word.
import { ValidationError } from '../../errors';

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

/** MAAS's SCRIPT_STATUS (maascommon/enums/scriptresult.py) and its names. */
export const SCRIPT_STATUS = {
  PENDING: 0,
  RUNNING: 1,
  PASSED: 2,
  FAILED: 3,
  TIMEDOUT: 4,
  ABORTED: 5,
  DEGRADED: 6,
  INSTALLING: 7,
  FAILED_INSTALLING: 8,
  SKIPPED: 9,
  APPLYING_NETCONF: 10,
  FAILED_APPLYING_NETCONF: 11,
} as const;
export const SCRIPT_STATUS_NAME: Record<number, string> = {
  [-1]: 'Unknown',
  0: 'Pending',
  1: 'Running',
  2: 'Passed',
  3: 'Failed',
  4: 'Timed out',
  5: 'Aborted',
  6: 'Degraded',
  7: 'Installing dependencies',
  8: 'Failed installing dependencies',
  9: 'Skipped',
  10: 'Applying custom network configuration',
  11: 'Failed to apply custom network configuration',
};
const S = SCRIPT_STATUS;
/** Still to run or running (MAAS's SCRIPT_STATUS_RUNNING_OR_PENDING). */
export const RUNNING_OR_PENDING: readonly number[] = [S.PENDING, S.RUNNING, S.INSTALLING, S.APPLYING_NETCONF];
const RUNNING: readonly number[] = [S.RUNNING, S.APPLYING_NETCONF, S.INSTALLING];
const FAILED: readonly number[] = [S.FAILED, S.TIMEDOUT, S.FAILED_INSTALLING, S.FAILED_APPLYING_NETCONF];

/**
 * MAAS's get_status_from_qs: a set's (or a hardware type's) status from its results' statuses in
 * MAAS's order of precedence; -1 (Unknown) when there are none. Suppressed results are left out
 * by the caller, skipped ones count as passed.
 */
export function overallStatus(statuses: readonly number[]): number {
  if (statuses.length === 0) return -1;
  for (const s of [
    S.RUNNING,
    S.APPLYING_NETCONF,
    S.INSTALLING,
    S.PENDING,
    S.ABORTED,
    S.FAILED,
    S.FAILED_APPLYING_NETCONF,
    S.FAILED_INSTALLING,
    S.TIMEDOUT,
    S.DEGRADED,
  ] as number[]) {
    if (!statuses.includes(s)) continue;
    if (RUNNING.includes(s)) return S.RUNNING;
    if (FAILED.includes(s)) return S.FAILED;
    return s;
  }
  return S.PASSED;
}

/** MAAS's SCRIPT_PARALLEL: names and the words translate_script_parallel takes. */
export const PARALLEL_NAME: Record<number, string> = {
  0: 'Disabled',
  1: 'Run along other instances of this script',
  2: 'Run along any other script',
};
const PARALLEL_WORDS: Record<string, number> = { disabled: 0, none: 0, instance: 1, name: 1, any: 2 };

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
export const translateParallel = (v: string) => translate('parallel', v, PARALLEL_WORDS, PARALLEL_NAME);
