// A machine's probe details as MAAS keeps them (get_single_probed_details): the XML that two
// built-in commissioning scripts printed, lshw's (00-maas-01-lshw) and lldpctl's
// (maas-capture-lldpd). They stay in the script results that hold them; `details` and the tags'
// XPath read them from there.
import type { EntityManager } from 'typeorm';
import { LSHW_SCRIPT } from './hardware/commissioning-output';
import { currentScriptSetId, RESULT_TYPE } from './scripts/script-sets';
import { SCRIPT_STATUS } from './scripts/script-enums';

export { LSHW_SCRIPT };
/** MAAS's LLDP_OUTPUT_NAME: the built-in whose output is the machine's lldp details. */
export const LLDP_SCRIPT = 'maas-capture-lldpd';

/**
 * SQL joining, as `alias`, the passed LLDP capture of the run that holds the script result `r`
 * (a run has one result per script name): the tags read a machine's lshw and lldp from one run.
 */
export const sameRunLldp = (alias: string) =>
  `LEFT JOIN script_results ${alias} ON ${alias}.script_set_id = r.script_set_id
     AND ${alias}.script_name = '${LLDP_SCRIPT}' AND ${alias}.status = ${SCRIPT_STATUS.PASSED}`;

/** A capture's XML: its stdout (MAAS stores that), else its combined output. */
export const captureOutput = (alias: string) => `coalesce(nullif(${alias}.stdout, ''), ${alias}.output)`;

/**
 * The machine's lldp details, as MAAS's: the capture's output in its current (latest) commissioning
 * run when it passed there; null before any commissioning captured, or when the latest did not.
 */
export async function lldpDetails(manager: EntityManager, machineId: number): Promise<Buffer | null> {
  const setId = await currentScriptSetId(manager, machineId, RESULT_TYPE.commissioning);
  if (setId === null) return null;
  const rows: Array<{ xml: Buffer }> = await manager.query(
    `SELECT ${captureOutput('c')} AS xml FROM script_results c
      WHERE c.script_set_id = $1 AND c.script_name = $2 AND c.status = $3`,
    [setId, LLDP_SCRIPT, SCRIPT_STATUS.PASSED],
  );
  return rows[0]?.xml ?? null;
}
