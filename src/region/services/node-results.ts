// MAAS's node results (NodeResultsHandler) and a machine's probe details, from what metalflow's
// commissioning keeps: the last hardware report a machine uploaded (machines.hardware_report, as
// validated), which is its one commissioning result, `metalflow-hardware.json`, exit status 0; and
// the LLDP capture's XML (probe-details.ts).
import type { DataSource } from 'typeorm';
import { HARDWARE_FILE, type HardwareReport } from '../../contracts/hardware';
import type { MachineQueries } from './machine-queries';
import { visibilitySql } from './machine-queries';
import { lldpDetails } from './probe-details';
import type { Principal } from './principal';

/** MAAS's result types (metadataserver.enum.RESULT_TYPE). */
export const RESULT_TYPE = { commissioning: 0, testing: 1, installation: 2 } as const;

/** Reports read per query while a listing streams: each may be up to HARDWARE_LIMITS.fileBytes (2 MiB). */
export const NODE_RESULTS_BATCH = 8;
/** How many system_id values one request may name. */
export const MAX_NODE_RESULT_IDS = 1_000;

export interface NodeResult {
  id: number;
  systemId: string;
  name: string;
  resultType: number;
  exitStatus: number;
  report: HardwareReport;
  created: Date;
}

export interface NodeResultsFilter {
  systemIds: string[];
  names: string[];
  resultType?: number;
}

export class NodeResultsService {
  constructor(
    private readonly db: DataSource,
    private readonly queries: Pick<MachineQueries, 'get'>,
  ) {}

  /**
   * The visible machines' results, filtered as MAAS filters them, in batches: the ids are read
   * first (small rows), then the reports NODE_RESULTS_BATCH at a time, so a listing of many
   * commissioned machines never holds more than one batch of reports in memory.
   */
  async *list(caller: Principal, f: NodeResultsFilter): AsyncGenerator<NodeResult[]> {
    if (f.resultType !== undefined && f.resultType !== RESULT_TYPE.commissioning) return;
    if (f.names.length > 0 && !f.names.includes(HARDWARE_FILE)) return;
    const params: unknown[] = [];
    const where = [visibilitySql(caller, 'm', params), 'm.hardware_report IS NOT NULL'];
    if (f.systemIds.length > 0) {
      params.push(f.systemIds);
      where.push(`m.system_id = ANY($${params.length}::text[])`);
    }
    const ids = (
      (await this.db.query(`SELECT m.id FROM machines m WHERE ${where.join(' AND ')} ORDER BY m.id`, params)) as Array<{
        id: number;
      }>
    ).map((r) => r.id);
    for (let i = 0; i < ids.length; i += NODE_RESULTS_BATCH) {
      const rows = (await this.db.query(
        `SELECT id, system_id, hardware_report, hardware_report_at FROM machines
          WHERE id = ANY($1::int[]) AND hardware_report IS NOT NULL ORDER BY id`,
        [ids.slice(i, i + NODE_RESULTS_BATCH)],
      )) as Array<{ id: number; system_id: string; hardware_report: HardwareReport; hardware_report_at: Date }>;
      yield rows.map((r) => ({
        id: r.id,
        systemId: r.system_id,
        name: HARDWARE_FILE,
        resultType: RESULT_TYPE.commissioning,
        exitStatus: 0,
        report: r.hardware_report,
        created: r.hardware_report_at,
      }));
    }
  }

  /**
   * A visible machine's hostname, its last hardware report (null before it commissioned) and its
   * lldp details (probe-details.ts: null when its latest commissioning captured none).
   */
  async details(
    caller: Principal,
    systemId: string,
  ): Promise<{ hostname: string; report: HardwareReport | null; lldp: Buffer | null }> {
    const view = await this.queries.get(caller, systemId);
    const rows = (await this.db.query(`SELECT hardware_report FROM machines WHERE id = $1`, [
      view.machine.id,
    ])) as Array<{ hardware_report: HardwareReport | null }>;
    const lldp = await lldpDetails(this.db.manager, view.machine.id);
    return { hostname: view.machine.hostname, report: rows[0]?.hardware_report ?? null, lldp };
  }
}
