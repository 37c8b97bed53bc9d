// Machines by status for the region's /metrics (maas_machines), every status present (zero
// included) so a series never vanishes from a dashboard. /MAAS/metrics is unauthenticated, so the
// GROUP BY runs at most once per MACHINE_COUNTS_CACHE_MS however many scrape (one in flight,
// shared), on the pool it is given: the listings pool where there is one, not the main pool that
// writes and token lookups need.
import type { DataSource } from 'typeorm';
import { MachineStatus, type MachineStatusName } from '../../contracts/statuses';
import { SingleFlightCache } from '../single-flight-cache';

/** How long a count is served before the next GROUP BY (Prometheus scrapes every 15 s to 1 min). */
export const MACHINE_COUNTS_CACHE_MS = 15_000;

export class MachineCounts {
  private readonly cache: SingleFlightCache<Array<{ status: string; count: number }>>;

  constructor(
    private readonly db: DataSource,
    cacheMs = MACHINE_COUNTS_CACHE_MS,
    now: () => number = Date.now,
  ) {
    this.cache = new SingleFlightCache(() => this.count(), cacheMs, now);
  }

  /** Every MAAS status by its lower-case enum name (MAAS's own label values: `failed_deployment`), up to `cacheMs` old. */
  byStatus(): Promise<Array<{ status: string; count: number }>> {
    return this.cache.get();
  }

  private async count(): Promise<Array<{ status: string; count: number }>> {
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
