// The region process: API (MAAS API, metadata server, rack API), region worker, reconciler.
import { Client, Connection, defaultGrpcRetryOptions } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { Log } from '../contracts/log';
import type * as RegionApi from './region-api';
import type * as RegionWorker from './region-worker';
import { poolStats } from '../region/db/pool-stats';
import { RegionMetrics } from '../region/metrics';
import { workflowStartCounter } from '../region/temporal/workflow-metrics';
import type { Config } from '../runtime/config';
import { openDatabase } from '../region/db/data-source';
import { loadSecretKey, SecretBox } from '../region/secrets';
import { createRegionServices } from '../region/services';
import { TemporalWorkflowGateway } from '../region/temporal/gateway';
import { TemporalReachability } from '../region/temporal/reachability';

/** How long a region caller waits for a database connection (pool full, or PostgreSQL away). */
const CONNECTION_WAIT_MS = 10_000;
/** Attempts per Temporal call from the API and reconciler (backoff 0.17, 0.29, 0.49, 0.84, 1.4 s). */
const TEMPORAL_CALL_ATTEMPTS = 6;

export interface RegionRoles {
  api: boolean;
  worker: boolean;
}

export interface RunningRegion {
  db: DataSource;
  url: string;
  stop(): Promise<void>;
}

export async function startRegion(
  config: Config,
  infra: { databaseUrl: string; temporalAddress: string; temporalUiUrl: string | null },
  roles: RegionRoles,
  log: Log,
): Promise<RunningRegion> {
  const limits = config.database;
  // Two pools: the main one (authentication, writes, workflow activities) and a capped one for
  // machine listings, so a tenant's heavy listings can never take the connections the rest needs.
  const db = await openDatabase(infra.databaseUrl, {
    migrate: true,
    poolSize: limits.poolSize,
    statementTimeoutMs: limits.statementTimeoutMs,
    // With PostgreSQL restarting, a request waits this long for a connection, then gets a 503.
    connectionWaitMs: CONNECTION_WAIT_MS,
    applicationName: 'metalflow',
    preparedStatements: limits.preparedStatements,
  });
  const listingDb = roles.api
    ? await openDatabase(infra.databaseUrl, {
        migrate: false,
        poolSize: limits.listingPoolSize,
        statementTimeoutMs: limits.statementTimeoutMs,
        // A listing waits this long for a connection of its pool, then gets a 503 (never hangs).
        connectionWaitMs: 10_000,
        applicationName: 'metalflow-listings',
        preparedStatements: limits.preparedStatements,
        // A listing's filters (status, owner, LIMIT/OFFSET pages) are planned for their values.
        genericPlans: false,
      })
    : undefined;
  // One registry per region process: its API's requests, the workflows it starts, the outcomes
  // its worker records; machines and pools read at scrape time.
  const metrics = new RegionMetrics({
    // Read at scrape time, once the services exist (they need the client these metrics count on).
    machinesByStatus: () => services.machineCounts.byStatus(),
    pools: () => ({ main: poolStats(db), ...(listingDb ? { listings: poolStats(listingDb) } : {}) }),
  });
  const reachability = new TemporalReachability();
  const connection = await Connection.connect({
    address: infra.temporalAddress,
    // gRPC retries ride out a blip; a Temporal restart becomes the API's 503 in seconds, not ~20 s.
    // The attempts observed too (a visibility list's aside): a lifecycle request answers before its
    // start only while Temporal is not known to be away (region/temporal/reachability.ts).
    interceptors: [reachability.retryInterceptor(defaultGrpcRetryOptions({ maxAttempts: TEMPORAL_CALL_ATTEMPTS }))],
  });
  const client = new Client({
    connection,
    namespace: config.temporalNamespace,
    interceptors: { workflow: [workflowStartCounter(metrics, log)] },
  });
  const workflows = new TemporalWorkflowGateway(client, reachability);
  const services = createRegionServices({
    db,
    workflows,
    secrets: new SecretBox(loadSecretKey(config.stateDir)),
    nodeTimeoutMs: config.nodeTimeoutMs,
    bootRoot: config.rackBoot.bootRoot,
    listing: { db: listingDb, perUser: limits.listingsPerUser },
    startWaitMs: config.startWaitMs,
    log,
  });
  // Each role's code is loaded only by a process that runs the role (require: tsx compiles what
  // require() loads; an import() would go to Node's ESM loader, which has no hook for .ts here): an
  // API-only region does not load @temporalio/worker, a worker-only one neither Koa nor the API.
  const stops: Array<() => Promise<void> | void> = [];
  if (roles.api) {
    const { startApiRole } = require('./region-api') as typeof RegionApi;
    stops.push(
      ...(await startApiRole({ config, infra, db, services, workflows, client, metrics, apiOnly: !roles.worker, log })),
    );
  }
  if (roles.worker) {
    const { startWorkerRole } = require('./region-worker') as typeof RegionWorker;
    stops.push(
      ...(await startWorkerRole({
        config,
        temporalAddress: infra.temporalAddress,
        db,
        services,
        metrics,
        withApi: roles.api,
        log,
      })),
    );
  }
  return {
    db,
    url: `http://${config.apiHost}:${config.apiPort}/MAAS/`,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
      // The API is closed: the starts its requests left going on end before their connections.
      await services.actions.drainStarts();
      await connection.close();
      await listingDb?.destroy();
      await db.destroy();
    },
  };
}
