// Tells the region, every few seconds, that this rack lives and how its services are. The FAKE
// rack runs only its worker; DHCP, TFTP and HTTP boot are reported off, plainly.
import type { RackHeartbeat } from '../contracts/rack-api';
import { sleep } from './backoff';
import { RegionError, type RegionApi } from './region-client';

const NOT_YET = 'fake rack: not implemented yet';

export function fakeRackServices(taskQueue: string): RackHeartbeat {
  return {
    services: {
      'rack-worker': { status: 'running', message: `fake rack: power and boot activities on task queue ${taskQueue}` },
      dhcp: { status: 'off', message: NOT_YET },
      tftp: { status: 'off', message: NOT_YET },
      'http-boot': { status: 'off', message: NOT_YET },
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
