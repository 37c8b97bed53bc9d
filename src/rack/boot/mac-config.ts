// What a PXE request from one MAC boots: the region's answer, or, while the region cannot be
// reached, the config this rack prepared for that machine (so a machine in the middle of a
// commissioning or deployment can still boot when its region blips).
import type { BootConfig, MacBootConfig } from '../../contracts/rack-api';
import { RegionError } from '../region-client';

/** The region lookup (RegionClient.bootConfigByMac with this rack's system_id bound). */
export type BootConfigByMac = (mac: string, signal: AbortSignal) => Promise<MacBootConfig>;

/** The boot configs this rack prepared, found by one of the machine's MACs. */
export interface PreparedBoots {
  byMac(mac: string): BootConfig | undefined;
  /** Drops a machine's prepared config (the region says its netboot phase is over). */
  delete?(systemId: string): void;
}

export type MacConfigAnswer =
  | { ok: true; config: MacBootConfig; source: 'region' | 'cache' }
  /** 503: the region is unreachable and nothing is prepared; 502: the region refused. */
  | { ok: false; status: 502 | 503; message: string };

export interface MacConfigDeps {
  bootConfigByMac: BootConfigByMac;
  prepared?: PreparedBoots;
  /** iPXE gives up on a slow HTTP answer; a region slower than this counts as unreachable. */
  timeoutMs?: number;
}

/** Resolves the boot config for `mac` (colon form). Rejects only when `signal` (the client) aborts. */
export async function macConfig(deps: MacConfigDeps, mac: string, signal: AbortSignal): Promise<MacConfigAnswer> {
  const deadline = AbortSignal.timeout(deps.timeoutMs ?? 10_000);
  let why: string;
  try {
    const config = await deps.bootConfigByMac(mac, AbortSignal.any([signal, deadline]));
    // No credentials: the machine's netboot phase is over, so what was prepared for it (with its
    // token) must not be served during a later region outage either.
    if (config.known && !config.credentials) deps.prepared?.delete?.(config.systemId);
    return { ok: true, config, source: 'region' };
  } catch (err) {
    if (signal.aborted) throw err;
    // The region answered, and said no (4xx): booting a stale cached config would be wrong.
    if (err instanceof RegionError && !err.retryable)
      return { ok: false, status: 502, message: `The region refused the boot config for ${mac}: ${err.message}` };
    why = deadline.aborted ? 'the region did not answer in time' : (err as Error).message;
  }
  const cached = deps.prepared?.byMac(mac);
  if (cached) return { ok: true, config: { known: true, ...cached }, source: 'cache' };
  return {
    ok: false,
    status: 503,
    message: `No boot config for ${mac}: ${why}, and this rack has none prepared for that MAC. Try again later.`,
  };
}
