// A rack process: DHCP, TFTP and HTTP boot servers for machines that PXE-boot, real power drivers
// (ipmi, redfish, webhook, manual) and simulated machines (power type `fake`, for scale tests).
// It registers with the region, runs the rack's activity worker on its own task queue, heartbeats.
// The rack talks to the region only over the rack API; it never imports region code.
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { withFields, type Log } from '../contracts/log';
import { RACK_FAILOVER_AFTER_S, type RackRegistered } from '../contracts/rack-api';
import { rackTaskQueue } from '../contracts/workflows';
import { createRackActivities } from '../activities/rack';
import { withRetry } from './backoff';
import { BootCache } from './boot-cache';
import { startBootServices, type BootServices } from './boot/service';
import { startDhcpService, type DhcpService } from './dhcp/service';
import { netbootSource } from './fake/boot-source';
import { FakePowerDriver } from './fake/fake-power';
import { heartbeatLoop, rackServices } from './heartbeat';
import { rackRegistration, readIdentity, writeIdentity } from './identity';
import { scopedLog } from './log-scope';
import { RackMetrics } from './metrics';
import { startMetricsServer, type RunningMetricsServer } from './metrics-server';
import { meteredRegistry } from './power/metered';
import { pollLoop } from './power/poller';
import { queueTakeoverLoop } from './queue-takeover';
import { createPowerRegistry } from './power/registry';
import { isRetryableRegionError, RegionClient } from './region-client';
import { SelfFence, type SelfFenceOptions } from './self-fence';
import { startRackWorker, type RunningRackWorker } from './worker';

export interface RackProcessOptions {
  /** The region as MAAS racks are given it, e.g. http://10.0.0.1:5240/MAAS. */
  regionUrl: string;
  /** The region's shared rack secret. */
  secret: string;
  /** Unique per rack; registration by the same name is the same rack. */
  name: string;
  temporal: { address: string; namespace: string };
  stateDir: string;
  log: Log;
  /** Where /metrics is served (0 = any free port); off when absent or null. */
  metricsPort?: number | null;
  heartbeatEveryMs?: number;
  /** How long to wait for the region to come up before giving up (default 10 minutes). */
  registerTimeoutMs?: number;
  /** Power polling: every 15 s (MAAS's default), 10 BMCs at a time, unless told otherwise. */
  powerPoll?: { everyMs: number; concurrency: number };
  /** The boot servers (ports: 0 = any free port, null = off); no boot servers when absent. */
  boot?: {
    bootRoot: string;
    dhcpPort: number | null;
    tftpPort: number | null;
    httpPort: number | null;
    dhcpPollMs: number;
    dhcpBroadcastsEverywhere?: boolean;
  };
}

export interface RunningRack {
  systemId: string;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startRack(o: RackProcessOptions): Promise<RunningRack> {
  // Lines logged while an activity runs carry its machine and workflow (activity-log-fields.ts).
  const log = scopedLog(withFields(o.log, { rack: o.name }));
  const metrics = new RackMetrics();
  const region = new RegionClient({ regionUrl: o.regionUrl, secret: o.secret });

  // When the region last recorded this rack (registration sets last_seen): the self-fence's start.
  let registeredAt = performance.now();
  const register = async (): Promise<RackRegistered> => {
    const sentAt = performance.now();
    const got = await region.register(rackRegistration(o.name));
    registeredAt = sentAt;
    const before = await readIdentity(o.stateDir, o.name);
    if (before && before.systemId !== got.systemId)
      log(`the region now knows this rack as ${got.systemId} (was ${before.systemId})`);
    await writeIdentity(o.stateDir, { ...got, name: o.name, registeredAt: new Date().toISOString() });
    return got;
  };
  const identity = await withRetry(register, {
    maxElapsedMs: o.registerTimeoutMs ?? 10 * 60_000,
    initialDelayMs: 1_000,
    isRetryable: isRetryableRegionError,
    onRetry: (err, attempt, delay) =>
      log(`waiting for the region (${(err as Error).message}); retry ${attempt} in ${delay} ms`),
  });
  const taskQueue = rackTaskQueue(identity.systemId);
  log(`registered as ${identity.systemId}`);

  const bootCache = new BootCache();
  let boot: BootServices | undefined;
  let dhcp: DhcpService | undefined;
  if (o.boot) {
    boot = await startBootServices({
      bootRoot: o.boot.bootRoot,
      httpPort: o.boot.httpPort,
      tftpPort: o.boot.tftpPort,
      regionUrl: o.regionUrl,
      bootConfigByMac: (mac, signal) => region.bootConfigByMac(identity.systemId, mac, signal),
      bootCache,
      // DHCP starts after the boot servers (it needs their port): look the service up per request.
      leasedAddresses: o.boot.dhcpPort !== null ? (mac) => dhcp?.leasedTo(mac) ?? [] : undefined,
      log,
      onTftpTransfer: (t) => {
        metrics.tftpLatency.observe({ outcome: t.outcome }, t.seconds);
        metrics.tftpBytes.inc(t.bytes);
      },
      onHttpTransfer: (t) => {
        metrics.httpBootTransfers.inc({ kind: t.kind, outcome: t.outcome });
        metrics.httpBootBytes.inc({ kind: t.kind }, t.bytes);
      },
    });
    if (o.boot.dhcpPort !== null) {
      dhcp = startDhcpService({
        region,
        rackSystemId: () => identity.systemId,
        stateDir: path.join(o.stateDir, `rack-${o.name}-dhcp`),
        port: o.boot.dhcpPort,
        httpPort: boot.ports().http ?? o.boot.httpPort ?? undefined,
        pollEveryMs: o.boot.dhcpPollMs,
        answerBroadcastsOnEveryNetwork: o.boot.dhcpBroadcastsEverywhere,
        log,
        onPacket: (direction, type) => metrics.dhcpPackets.inc({ direction, type }),
      });
      metrics.readLeasesFrom(() => dhcp?.server?.leases() ?? []);
    }
  }
  const fake = new FakePowerDriver({ netboot: netbootSource({ region, bootCache, log }), log });
  const drivers = meteredRegistry(createPowerRegistry(log, [fake]), (driver, action, outcome) =>
    metrics.powerActions.inc({ driver, action, outcome }),
  );
  // Created before the activities, which end when it fences; its callbacks are set further down.
  let fenceActions: Pick<SelfFenceOptions, 'fence' | 'unfence'> = {
    fence: async () => undefined,
    unfence: async () => undefined,
  };
  const fence = new SelfFence(
    { fence: () => fenceActions.fence(), unfence: () => fenceActions.unfence(), log },
    registeredAt,
  );
  const activities = createRackActivities({ region, drivers, bootCache, log, fenceSignal: () => fence.signal });

  let metricsServer: RunningMetricsServer | undefined;
  if (o.metricsPort !== undefined && o.metricsPort !== null) {
    // Metrics are for the operator: a port already taken costs them, never the rack's machines.
    metricsServer = await startMetricsServer(metrics.registry, o.metricsPort).catch((err: Error) => {
      log(`metrics: not serving on port ${o.metricsPort}: ${err.message}`, { level: 'warn' });
      return undefined;
    });
    if (metricsServer) log(`metrics at http://0.0.0.0:${metricsServer.port}/metrics`);
  }
  const stopServers = async () => {
    await metricsServer?.close();
    await dhcp?.stop();
    await boot?.stop();
  };
  let connection: NativeConnection | undefined;
  let worker: RunningRackWorker;
  try {
    connection = await NativeConnection.connect({ address: o.temporal.address });
    worker = await startRackWorker({ connection, namespace: o.temporal.namespace, taskQueue, activities, log });
  } catch (err) {
    await connection?.close();
    await stopServers();
    throw err;
  }
  log(`worker running on task queue ${taskQueue}`);

  const stopping = new AbortController();
  // Since when this rack's heartbeats have gone through without a break (queue takeover asks only
  // after the failover delay of them: see queue-takeover.ts).
  let heardSince: number | undefined;
  const heartbeats = heartbeatLoop(
    {
      region: {
        heartbeat: async (...args: Parameters<RegionClient['heartbeat']>) => {
          const sentAt = performance.now();
          try {
            await region.heartbeat(...args);
            heardSince ??= Date.now();
            void fence.heard(sentAt);
          } catch (err) {
            heardSince = undefined;
            throw err;
          }
        },
      },
      rackSystemId: () => identity.systemId,
      status: () => rackServices(taskQueue, { worker: worker.health(), dhcp: dhcp?.status(), boot: boot?.status() }),
      everyMs: o.heartbeatEveryMs ?? 10_000,
      log,
      // Same name, same rack: the region hands back the same system_id unless its database was
      // replaced, in which case this process's task queue is stale and it must be restarted.
      reregister: async () => {
        const again = await register();
        if (again.systemId !== identity.systemId)
          log(`WARNING: re-registered as ${again.systemId}; restart this rack to serve its new task queue`);
      },
    },
    stopping.signal,
  );

  // A silent partner rack's machines are served from here too (docs/adr/0005-rack-failover.md).
  const takeover = queueTakeoverLoop(
    {
      region,
      rackSystemId: () => identity.systemId,
      everyMs: o.heartbeatEveryMs ?? 10_000,
      mayAsk: () =>
        !fence.isFenced() && heardSince !== undefined && Date.now() - heardSince >= RACK_FAILOVER_AFTER_S * 1000,
      startWorker: (queue) =>
        startRackWorker({ connection, namespace: o.temporal.namespace, taskQueue: queue, activities, log }),
      log,
    },
    stopping.signal,
  );

  // Cut off from the region (its heartbeats failing) this rack stops serving Temporal before its
  // partner may take its queue over, and serves again once it is heard (self-fence.ts).
  fenceActions = {
    fence: async () => {
      await Promise.all([worker.stop(), takeover.release()]);
    },
    unfence: async () => {
      worker = await startRackWorker({ connection, namespace: o.temporal.namespace, taskQueue, activities, log });
    },
  };
  const fencing = fence.run(stopping.signal);

  const polling = pollLoop(
    {
      region,
      drivers,
      rackSystemId: () => identity.systemId,
      everyMs: o.powerPoll?.everyMs ?? 15_000,
      concurrency: o.powerPoll?.concurrency ?? 10,
      queryTimeoutMs: 30_000,
      log,
    },
    stopping.signal,
  );

  let stopped: Promise<void> | undefined;
  return {
    systemId: identity.systemId,
    taskQueue,
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await heartbeats;
        await fencing;
        await polling;
        await takeover.done;
        await worker.stop();
        await drivers.close();
        await fake.stopAll();
        await stopServers();
        await connection.close();
        log('stopped');
      })()),
  };
}
