// MAAS's status fields of machines (commissioning_status, testing_status, cpu_test_status, …) as
// the machine views show them: read from the current sets' results, for a whole listing chunk.
import type { EntityManager } from 'typeorm';
import { groupRows } from '../group-rows';
import { overallStatus } from './script-enums';
import { RESULT_TYPE } from './script-sets';

/** MAAS's MachineHandler status fields, computed from results; -1 (Unknown) without any. */
export interface MachineScriptStatuses {
  commissioning: number;
  testing: number;
  cpu: number;
  memory: number;
  storage: number;
  network: number;
  other: number;
}

/**
 * MAAS's status fields of machines (commissioning_status, testing_status, cpu_test_status, …),
 * from their current commissioning and testing sets: one query for any number of machines.
 */
export async function loadScriptStatuses(
  manager: EntityManager,
  machineIds: readonly number[],
): Promise<Map<number, MachineScriptStatuses>> {
  const rows: Array<{ machineId: number; resultType: number; status: number; hardwareType: number | null }> =
    await manager.query(
      `SELECT t.machine_id AS "machineId", t.result_type AS "resultType", r.status, s.hardware_type AS "hardwareType"
         FROM (SELECT DISTINCT ON (machine_id, result_type) id, machine_id, result_type FROM script_sets
                WHERE machine_id = ANY($1::int[]) AND result_type IN (0, 1) ORDER BY machine_id, result_type, id DESC) t
         JOIN script_results r ON r.script_set_id = t.id AND NOT r.suppressed
         LEFT JOIN scripts s ON s.id = r.script_id`,
      [machineIds],
    );
  const byMachine = groupRows(
    rows,
    (r) => r.machineId,
    (r) => r,
  );
  const out = new Map<number, MachineScriptStatuses>();
  for (const id of machineIds) {
    const mine = byMachine.get(id) ?? [];
    const testing = mine.filter((r) => r.resultType === RESULT_TYPE.testing);
    const hw = (types: Array<number | null>) =>
      overallStatus(testing.filter((r) => types.includes(r.hardwareType)).map((r) => r.status));
    out.set(id, {
      commissioning: overallStatus(mine.filter((r) => r.resultType === RESULT_TYPE.commissioning).map((r) => r.status)),
      testing: overallStatus(testing.map((r) => r.status)),
      cpu: hw([1]),
      memory: hw([2]),
      storage: hw([3]),
      network: hw([4]),
      other: hw([0, 5, null]),
    });
  }
  return out;
}
