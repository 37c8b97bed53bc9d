// What a FAKE machine gets when it netboots: the region's boot config for it (what a real PXE
// request makes the rack ask for), or the one this rack prepared if the region is unreachable.
import type { BootConfig } from '../../contracts/rack-api';
import { withRetry } from '../backoff';
import type { BootCache } from '../boot-cache';
import { isRetryableRegionError, type RegionApi } from '../region-client';

export type BootSource = (systemId: string, signal: AbortSignal) => Promise<BootConfig>;

export function netbootSource(deps: {
  region: Pick<RegionApi, 'bootConfig'>;
  bootCache: BootCache;
  log: (line: string) => void;
  maxElapsedMs?: number;
}): BootSource {
  return (systemId, signal) =>
    withRetry(
      async () => {
        try {
          return await deps.region.bootConfig(systemId, signal);
        } catch (err) {
          const cached = isRetryableRegionError(err) ? deps.bootCache.get(systemId) : undefined;
          if (!cached) throw err;
          deps.log(`fake machine ${systemId}: region unreachable, booting the prepared ${cached.purpose} config`);
          return cached;
        }
      },
      {
        maxElapsedMs: deps.maxElapsedMs ?? 120_000,
        isRetryable: isRetryableRegionError,
        signal,
        onRetry: (err, attempt, delay) =>
          deps.log(
            `fake machine ${systemId}: no boot config (${(err as Error).message}); retry ${attempt} in ${delay} ms`,
          ),
      },
    );
}
