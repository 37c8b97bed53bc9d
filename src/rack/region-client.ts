// The rack's only way to the region: the rack API over HTTP (src/contracts/rack-api.ts), with the
// shared secret. Errors say whether retrying is worth it, so callers need not know HTTP.
import {
  RACK_API_PREFIX,
  rackPaths,
  type BootConfig,
  type CoveredQueues,
  type DhcpConfig,
  type DhcpLeaseReport,
  type MacBootConfig,
  type PowerConfig,
  type PowerStates,
  type PowerTargets,
  type RackHeartbeat,
  type RackRegistered,
  type RackRegistration,
} from '../contracts/rack-api';

/** What rack code needs from the region; tests stand in for it with a plain object. */
export interface RegionApi {
  register(reg: RackRegistration, signal?: AbortSignal): Promise<RackRegistered>;
  heartbeat(rackSystemId: string, hb: RackHeartbeat, signal?: AbortSignal): Promise<void>;
  powerConfig(systemId: string, signal?: AbortSignal): Promise<PowerConfig>;
  bootConfig(systemId: string, signal?: AbortSignal): Promise<BootConfig>;
}

/** A region request that failed: `retryable` for 5xx and network trouble, not for 4xx. */
export class RegionError extends Error {
  override name = 'RegionError';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** HTTP status, or undefined when the region could not be reached at all. */
    readonly status?: number,
  ) {
    super(message);
  }
  /** 404: the region does not know the machine (or rack) any more; retrying will not help. */
  get notFound(): boolean {
    return this.status === 404;
  }
}

export const isRetryableRegionError = (err: unknown): boolean => err instanceof RegionError && err.retryable;

/**
 * The rack API's base URL. Operators configure the region as `http://host:5240/MAAS` (what MAAS
 * racks are given) or as `http://host:5240`; both lead to `http://host:5240/MAAS/rack/v1`.
 */
export function rackApiBase(regionUrl: string): string {
  const root = regionUrl.replace(/\/+$/, '').replace(/\/MAAS$/, '');
  return `${root}${RACK_API_PREFIX}`;
}

export interface RegionClientOptions {
  regionUrl: string;
  secret: string;
  /** Per request; a region that hangs is treated like one that is down. */
  timeoutMs?: number;
}

export class RegionClient implements RegionApi {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly o: RegionClientOptions) {
    this.base = rackApiBase(o.regionUrl);
    this.timeoutMs = o.timeoutMs ?? 15_000;
  }

  register(reg: RackRegistration, signal?: AbortSignal): Promise<RackRegistered> {
    return this.request<RackRegistered>('POST', rackPaths.register, reg, signal);
  }

  async heartbeat(rackSystemId: string, hb: RackHeartbeat, signal?: AbortSignal): Promise<void> {
    await this.request('POST', rackPaths.heartbeat(rackSystemId), hb, signal);
  }

  powerConfig(systemId: string, signal?: AbortSignal): Promise<PowerConfig> {
    return this.request<PowerConfig>('GET', rackPaths.power(systemId), undefined, signal);
  }

  bootConfig(systemId: string, signal?: AbortSignal): Promise<BootConfig> {
    return this.request<BootConfig>('GET', rackPaths.bootConfig(systemId), undefined, signal);
  }

  /** What a PXE request from `mac` should boot (enlist when the region does not know the MAC). */
  bootConfigByMac(rackSystemId: string, mac: string, signal?: AbortSignal): Promise<MacBootConfig> {
    return this.request<MacBootConfig>('GET', rackPaths.bootConfigByMac(rackSystemId, mac), undefined, signal);
  }

  dhcpConfig(rackSystemId: string, signal?: AbortSignal): Promise<DhcpConfig> {
    return this.request<DhcpConfig>('GET', rackPaths.dhcpConfig(rackSystemId), undefined, signal);
  }

  async reportLeases(rackSystemId: string, report: DhcpLeaseReport, signal?: AbortSignal): Promise<void> {
    await this.request('POST', rackPaths.leases(rackSystemId), report, signal);
  }

  powerTargets(rackSystemId: string, signal?: AbortSignal): Promise<PowerTargets> {
    return this.request<PowerTargets>('GET', rackPaths.powerTargets(rackSystemId), undefined, signal);
  }

  /** The task queues of silent partner racks this rack polls too (docs/adr/0005-rack-failover.md). */
  coveredQueues(rackSystemId: string, signal?: AbortSignal): Promise<CoveredQueues> {
    return this.request<CoveredQueues>('GET', rackPaths.coveredQueues(rackSystemId), undefined, signal);
  }

  async reportPowerStates(rackSystemId: string, report: PowerStates, signal?: AbortSignal): Promise<void> {
    await this.request('POST', rackPaths.powerStates(rackSystemId), report, signal);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const url = `${this.base}${path}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.o.secret}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      // The caller's own cancellation is not a region failure: let it through unchanged.
      if (signal?.aborted) throw err;
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
      throw new RegionError(`Region unreachable (${method} ${url}): ${why}`, true);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const detail = text.trim().slice(0, 300) || res.statusText;
      throw new RegionError(
        `Region answered ${res.status} to ${method} ${url}: ${detail}`,
        res.status >= 500 || res.status === 429,
        res.status,
      );
    }
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // A proxy's HTML error page with a 200, say: treat as a passing fault.
      throw new RegionError(`Region sent invalid JSON to ${method} ${url}.`, true, res.status);
    }
  }
}
