// The region's Prometheus metrics (prom-client, a registry of its own), served at /MAAS/metrics
// as MAAS's region serves them. MAAS's names where MAAS has the metric (maas_http_request_latency,
// maas_machines); metalflow_* otherwise. Gauges are read at scrape time: the machines' counts (a
// GROUP BY at most every 15 s, services/machine-counts.ts), the pools' counters for the database.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from './db/pool-stats';

export interface RegionMetricSources {
  /** Machines by status (services.machineCounts.byStatus). */
  machinesByStatus?: () => Promise<Array<{ status: string; count: number }>>;
  /** Each database pool by name (`main`, `listings`). */
  pools?: () => Record<string, PoolStats | undefined>;
}

/** How a lifecycle workflow ended: its machine's operation succeeded, failed, or was aborted. */
export type WorkflowOutcome = 'completed' | 'failed' | 'aborted';

export class RegionMetrics {
  readonly registry = new Registry();

  /** MAAS's labels: the route template (never the raw URL), the op, the status. */
  readonly httpRequestLatency = new Histogram({
    name: 'maas_http_request_latency',
    help: 'HTTP request latency (seconds), by method, route template, status and op',
    labelNames: ['method', 'path', 'status', 'op'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly workflowsStarted = new Counter({
    name: 'metalflow_workflows_started_total',
    help: 'Workflows this region started, by workflow type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly workflowsFinished = new Counter({
    name: 'metalflow_workflows_finished_total',
    help: "Lifecycle workflows whose outcome this region's worker recorded, by workflow type and outcome",
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  /** 503s for want of a free database connection (region/outages.ts databaseBusy), by reason. */
  readonly dbBusy = new Counter({
    name: 'metalflow_db_busy_total',
    help: "Requests answered 503 because no database connection came free: the region's pool (pool) or PostgreSQL's max_connections (server)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(sources: RegionMetricSources = {}) {
    new Gauge({
      name: 'maas_machines',
      help: 'The number of machines known by MAAS, by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!sources.machinesByStatus) return;
        // With the database down the series are absent, and the rest of the scrape still answers
        // (the request metrics are what an operator looks at during an outage).
        const counts = await sources.machinesByStatus().catch(() => []);
        for (const { status, count } of counts) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'metalflow_db_pool_connections',
      help: "The region's PostgreSQL pools: connections open (total), idle, and callers waiting for one",
      labelNames: ['pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [pool, stats] of Object.entries(sources.pools?.() ?? {})) {
          if (!stats) continue;
          this.set({ pool, state: 'total' }, stats.total);
          this.set({ pool, state: 'idle' }, stats.idle);
          this.set({ pool, state: 'waiting' }, stats.waiting);
        }
      },
    });
  }
}
