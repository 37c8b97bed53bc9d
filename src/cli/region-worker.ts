// The region's worker role: the Temporal worker on the region's task queue (workflows and
// database activities), with a metrics port of its own when no API serves /MAAS/metrics. Loaded
// only by a process that runs the worker (src/cli/region.ts imports it on demand), so an API-only
// region never loads @temporalio/worker.
import type { DataSource } from 'typeorm';
import type { Log } from '../contracts/log';
import { startMetricsServer } from '../rack/metrics-server';
import type { RegionMetrics } from '../region/metrics';
import type { RegionServices } from '../region/services';
import { createRegionWorker } from '../region/worker';
import type { Config } from '../runtime/config';

/** Starts the worker role; returns its stops, in the order they were started. */
export async function startWorkerRole(o: {
  config: Config;
  temporalAddress: string;
  db: DataSource;
  services: RegionServices;
  metrics: RegionMetrics;
  withApi: boolean;
  log: Log;
}): Promise<Array<() => Promise<void> | void>> {
  const { config, db, services, metrics, log } = o;
  const stops: Array<() => Promise<void> | void> = [];
  const created = await createRegionWorker({
    address: o.temporalAddress,
    namespace: config.temporalNamespace,
    db,
    services,
    metrics: { metrics, log },
  });
  const worker = created.worker;
  // A worker-only process has no API for /MAAS/metrics: its lifecycle outcomes on a port of its own.
  if (!o.withApi && config.regionWorkerMetricsPort !== null) {
    const served = await startMetricsServer(metrics.registry, config.regionWorkerMetricsPort);
    log(`metrics at http://0.0.0.0:${served.port}/metrics`);
    stops.push(() => served.close());
  }
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running.catch(() => undefined);
    await created.connection.close();
  });
  return stops;
}
