// Rack errors → Temporal failures. Drivers and the region client say whether retrying helps;
// this is the one place that turns that into what the workflows' retry policy acts on.
import { ApplicationFailure } from '@temporalio/activity';
import { POWER_FATAL_ERROR } from '../../contracts/activities';
import { PowerError } from '../../rack/power/driver';
import { RegionError } from '../../rack/region-client';

/** A BMC that may answer later: Temporal retries the activity with backoff. */
export const POWER_RETRYABLE_ERROR = 'PowerRetryableError';
/** The rack could not get what it needed from the region (4xx: fatal; 5xx/unreachable: retried). */
export const RACK_REGION_ERROR = 'RackRegionError';

export function toActivityFailure(err: unknown, cancelled?: AbortSignal): unknown {
  // A cancelled activity is reported as cancelled by the worker; do not dress it up.
  if (cancelled?.aborted) return err;
  if (err instanceof PowerError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.retryable ? POWER_RETRYABLE_ERROR : POWER_FATAL_ERROR,
      nonRetryable: !err.retryable,
      cause: err.cause instanceof Error ? err.cause : undefined,
    });
  }
  if (err instanceof RegionError) {
    return ApplicationFailure.create({
      message: err.notFound ? `The region does not know this machine: ${err.message}` : err.message,
      type: RACK_REGION_ERROR,
      nonRetryable: !err.retryable,
    });
  }
  return err;
}
