// Tells the region, every few seconds, that this rack lives and how its services are: the worker,
// DHCP, TFTP and HTTP boot, as MAAS's service tracking shows them (rackcontrollers service_set).
import type { RackHeartbeat, ServiceStatus } from '../contracts/rack-api';
import { sleep } from './backoff';
import { RegionError, type RegionApi } from './region-client';

type Service = { status: ServiceStatus; message: string };

/** What the rack's Temporal worker says of itself (@temporalio/worker's State and PollerState). */
export interface WorkerHealth {
  runState: 'INITIALIZED' | 'RUNNING' | 'STOPPED' | 'STOPPING' | 'DRAINING' | 'DRAINED' | 'FAILED';
  activityPollerState?: 'POLLING' | 'SHUTDOWN' | 'FAILED';
  /** Why run() rejected, once it has. */
  failure?: Error;
}

/** The rack-worker service as MAAS's service tracking shows it: running only while it polls. */
export function workerService(taskQueue: string, w: WorkerHealth): Service {
  const queue = `task queue ${taskQueue}`;
  if (w.failure)
    return { status: 'dead', message: `the worker on ${queue} stopped with an error: ${w.failure.message}` };
  switch (w.runState) {
    case 'RUNNING':
      // (No poller state: a worker that does not say; the SDK's getStatus() always does.)
      if (w.activityPollerState === 'POLLING' || w.activityPollerState === undefined)
        return { status: 'running', message: `power and boot activities on ${queue}` };
      return w.activityPollerState === 'FAILED'
        ? { status: 'degraded', message: `the worker on ${queue} cannot poll Temporal for activities` }
        : { status: 'degraded', message: `the worker on ${queue} is not polling for activities` };
    case 'INITIALIZED':
      return { status: 'degraded', message: `the worker on ${queue} is starting` };
    case 'STOPPING':
    case 'DRAINING':
    case 'DRAINED':
      return { status: 'degraded', message: `the worker on ${queue} is shutting down` };
    case 'FAILED':
      return { status: 'dead', message: `the worker on ${queue} failed` };
    case 'STOPPED':
      return { status: 'dead', message: `the worker on ${queue} is stopped` };
  }
}

/** One heartbeat's services; a server this rack was not configured to run is reported off. */
export function rackServices(
  taskQueue: string,
  parts: { worker: WorkerHealth; dhcp?: Service; boot?: Record<'tftp' | 'http-boot', Service> },
): RackHeartbeat {
  const off = (what: string): Service => ({ status: 'off', message: `${what} is turned off on this rack` });
  return {
    services: {
      'rack-worker': workerService(taskQueue, parts.worker),
      dhcp: parts.dhcp ?? off('DHCP'),
      tftp: parts.boot?.tftp ?? off('TFTP'),
      'http-boot': parts.boot?.['http-boot'] ?? off('HTTP boot'),
    },
  };
}

export interface HeartbeatOptions {
  region: Pick<RegionApi, 'heartbeat'>;
  rackSystemId: () => string;
  status: () => RackHeartbeat;
  everyMs: number;
  log: (line: string) => void;
  /** The region no longer knows this rack (404): register again. */
  reregister: () => Promise<void>;
}

/** Runs until `signal` aborts; never rejects. The first heartbeat goes out at once. */
export async function heartbeatLoop(o: HeartbeatOptions, signal: AbortSignal): Promise<void> {
  let failing = false;
  while (!signal.aborted) {
    try {
      await o.region.heartbeat(o.rackSystemId(), o.status(), signal);
      if (failing) o.log('rack heartbeat: region reachable again');
      failing = false;
    } catch (err) {
      if (signal.aborted) break;
      // Log the first failure of a streak only: a region down for minutes should not flood logs.
      if (!failing) o.log(`rack heartbeat failed: ${(err as Error).message}`);
      failing = true;
      if (err instanceof RegionError && err.notFound) {
        await o.reregister().catch((e: unknown) => o.log(`rack re-registration failed: ${(e as Error).message}`));
      }
    }
    await sleep(o.everyMs, signal).catch(() => undefined);
  }
}
