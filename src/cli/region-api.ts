// The region's API role: the HTTP server (MAAS API, metadata server, rack API, web UI), the
// reconciler, the power-pause watcher and DNS. Loaded only by a process that serves the API
// (src/cli/region.ts imports it on demand), so a worker-only region never loads Koa and the API.
import v8 from 'node:v8';
import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { createApp } from '../api/app';
import { listenApi } from '../api/http/listen';
import type { Log } from '../contracts/log';
import type { RegionMetrics } from '../region/metrics';
import type { Config } from '../runtime/config';
import { Reconciler } from '../region/reconciler';
import { PowerPauseWatcher } from '../region/power-pause-watcher';
import { loadRackSecret } from '../region/secrets';
import type { RegionServices } from '../region/services';
import { hostInterfaces } from '../rack/host-interfaces';
import type { TemporalWorkflowGateway } from '../region/temporal/gateway';
import { TemporalPausedPowerSteps } from '../region/temporal/paused-power-steps';
import { startDnsServer } from '../region/dns-server';

/**
 * How far V8 lets the old generation grow past what a major GC left alive, in percent. V8's own
 * factor goes up to 4x on a fast machine: with ~58 MiB alive, a stream of 10,000-machine listings
 * let the heap reach ~200 MiB before it collected. At 50 % (with the listing's reply buffers used
 * again, api/http/piece-buffers.ts) the same bench peaks at 260 MiB instead of 348 for the same API
 * CPU per listing; without that reuse 50 % brought a major GC on nearly every listing
 * (bench/results/list-profile.md, session 11).
 */
const HEAP_GROWING_PERCENT = 50;

/** How soon a pause (or unpause) in Temporal shows in the machine's status_message. */
const POWER_PAUSE_WATCH_EVERY_MS = 5_000;

/** Starts the API role; returns its stops, in the order they were started. */
export async function startApiRole(o: {
  config: Config;
  infra: { databaseUrl: string; temporalUiUrl: string | null };
  db: DataSource;
  services: RegionServices;
  workflows: TemporalWorkflowGateway;
  client: Client;
  metrics: RegionMetrics;
  /** No worker in this process (`region --api-only`). */
  apiOnly: boolean;
  log: Log;
}): Promise<Array<() => Promise<void> | void>> {
  const { config, infra, db, services, workflows, client, metrics, log } = o;
  // Only in a process that is the API alone: where the worker shares the heap (`start`, a plain
  // `region`), its own collections under this setting were not measured, and V8's default stays.
  // Read by V8 at each major GC, so setting it once the process runs takes effect.
  if (o.apiOnly) v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const stops: Array<() => Promise<void> | void> = [];
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
  const api = await listenApi(app, {
    port: config.apiPort,
    host: config.apiHost,
    keepAliveMs: config.httpKeepAliveMs,
  });
  stops.push(() => api.close());
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
  return stops;
}
