// The region process: API (MAAS API, metadata server, rack API), region worker, reconciler.
import type http from 'node:http';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { createApp } from '../api/app';
import type { Log } from '../contracts/log';
import { startMetricsServer } from '../rack/metrics-server';
import { poolStats } from '../region/db/pool-stats';
import { RegionMetrics } from '../region/metrics';
import { workflowStartCounter } from '../region/temporal/workflow-metrics';
import type { Config } from '../runtime/config';
import { openDatabase } from '../region/db/data-source';
import { Reconciler } from '../region/reconciler';
import { PowerPauseWatcher } from '../region/power-pause-watcher';
import { loadRackSecret, loadSecretKey, SecretBox } from '../region/secrets';
import { createRegionServices } from '../region/services';
import { hostInterfaces } from '../rack/host-interfaces';
import { TemporalWorkflowGateway } from '../region/temporal/gateway';
import { TemporalReachability } from '../region/temporal/reachability';
import { TemporalPausedPowerSteps } from '../region/temporal/paused-power-steps';
import { createRegionWorker } from '../region/worker';
import { startDnsServer } from '../region/dns-server';

/** How soon a pause (or unpause) in Temporal shows in the machine's status_message. */
const POWER_PAUSE_WATCH_EVERY_MS = 5_000;
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
  });
  const listingDb = roles.api
    ? await openDatabase(infra.databaseUrl, {
        migrate: false,
        poolSize: limits.listingPoolSize,
        statementTimeoutMs: limits.statementTimeoutMs,
        // A listing waits this long for a connection of its pool, then gets a 503 (never hangs).
        connectionWaitMs: 10_000,
        applicationName: 'metalflow-listings',
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
    // The attempts observed too: a lifecycle request answers before its start only while Temporal
    // is not known to be away (region/temporal/reachability.ts).
    interceptors: [
      makeGrpcRetryInterceptor(
        reachability.observing(defaultGrpcRetryOptions({ maxAttempts: TEMPORAL_CALL_ATTEMPTS })),
      ),
    ],
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
  const stops: Array<() => Promise<void> | void> = [];

  let server: http.Server | undefined;
  if (roles.api) {
    // The region as a machine (DEPLOYED, locked), as each rack is when it registers; there before
    // the API answers.
    await services.controllers.ensureMachine({
      role: 'region',
      id: config.regionName,
      hostname: config.regionName,
      interfaces: hostInterfaces(),
    });
    const app = createApp(services, {
      rackSecret: loadRackSecret(config.stateDir),
      regionUrl: config.regionUrl,
      trustedProxies: config.trustedProxies,
      temporalUiUrl: infra.temporalUiUrl,
      temporalNamespace: config.temporalNamespace,
      log,
      metrics,
    });
    server = app.listen(config.apiPort, config.apiHost);
    await new Promise<void>((resolve, reject) => {
      server!.once('listening', resolve);
      server!.once('error', reject);
    });
    stops.push(() => new Promise<void>((r) => server!.close(() => r())));
    const stopReconciler = new Reconciler(db, workflows, { graceMs: config.reconcileGraceMs, log }).start(
      config.reconcileIntervalMs,
    );
    stops.push(stopReconciler);
    // status_message of machines whose power step an operator paused in Temporal (issue 21).
    const stopPauseWatcher = new PowerPauseWatcher(db, new TemporalPausedPowerSteps(client), log).start(
      POWER_PAUSE_WATCH_EVERY_MS,
    );
    stops.push(stopPauseWatcher);
    // The API process serves DNS (one named per region process that answers the API).
    if (config.dnsListen) {
      const dns = await startDnsServer({
        db,
        databaseUrl: infra.databaseUrl,
        stateDir: config.stateDir,
        listen: config.dnsListen,
        regionName: config.regionName,
        log,
      }).catch((err: Error) => {
        log(`DNS: not serving: ${err.message}`);
        return undefined;
      });
      if (dns) stops.push(() => dns.stop());
    } else log('DNS: off (METALFLOW_DNS_LISTEN=off)');
  }
  let worker: Worker | undefined;
  if (roles.worker) {
    const created = await createRegionWorker({
      address: infra.temporalAddress,
      namespace: config.temporalNamespace,
      db,
      services,
      metrics: { metrics, log },
    });
    worker = created.worker;
    // A worker-only process has no API for /MAAS/metrics: its lifecycle outcomes on a port of its own.
    if (!roles.api && config.regionWorkerMetricsPort !== null) {
      const served = await startMetricsServer(metrics.registry, config.regionWorkerMetricsPort);
      log(`metrics at http://0.0.0.0:${served.port}/metrics`);
      stops.push(() => served.close());
    }
    const running = worker.run();
    stops.push(async () => {
      worker!.shutdown();
      await running.catch(() => undefined);
      await created.connection.close();
    });
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
