// Machines by status for the region's /metrics (maas_machines): one GROUP BY per scrape, on the
// main pool, every status present (zero included) so a series never vanishes from a dashboard.
import type { DataSource } from 'typeorm';
import { MachineStatus, type MachineStatusName } from '../../contracts/statuses';

export class MachineCounts {
  constructor(private readonly db: DataSource) {}

  /** Every MAAS status by its lower-case enum name (MAAS's own label values: `failed_deployment`). */
  async byStatus(): Promise<Array<{ status: string; count: number }>> {
    const rows = (await this.db.query(`SELECT status, count(*)::int AS count FROM machines GROUP BY status`)) as Array<{
      status: number;
      count: number;
    }>;
    const counts = new Map(rows.map((r) => [r.status, r.count]));
    return (Object.entries(MachineStatus) as Array<[MachineStatusName, MachineStatus]>).map(([name, code]) => ({
      status: name.toLowerCase(),
      count: counts.get(code) ?? 0,
    }));
  }
}
