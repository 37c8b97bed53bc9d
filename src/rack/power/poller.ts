// The rack polls the power state of the machines it serves (MAAS: every 15 s), a bounded number
// of BMCs at a time, and reports the answers to the region in one request per round; the round's
// targets come with what each query needs (their power parameters), also in one request.
import type { PowerConfig, PowerStates, PowerTargets } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import { sleep } from '../backoff';
import type { PowerDriverRegistry } from './registry';

export interface PollerRegion {
  powerTargets(rackSystemId: string, signal?: AbortSignal): Promise<PowerTargets>;
  powerConfig(systemId: string, signal?: AbortSignal): Promise<PowerConfig>;
  reportPowerStates(rackSystemId: string, report: PowerStates, signal?: AbortSignal): Promise<void>;
}

export interface PollerOptions {
  region: PollerRegion;
  drivers: Pick<PowerDriverRegistry, 'get'>;
  rackSystemId: () => string;
  everyMs: number;
  /** BMCs queried at once: enough to keep a round short, few enough not to flood the BMC network. */
  concurrency: number;
  /** One slow BMC must not hold up a round. */
  queryTimeoutMs: number;
  log: (line: string) => void;
}

/** One round: query every target, `concurrency` at a time; a failed query reports `error`. */
export async function pollOnce(o: PollerOptions, signal: AbortSignal): Promise<PowerStates> {
  const began = Date.now();
  const { systemIds, configs = {} } = await o.region.powerTargets(o.rackSystemId(), signal);
  const states: PowerStates['states'] = {};
  const errors: Record<string, string> = {};
  let next = 0;
  const worker = async () => {
    while (next < systemIds.length && !signal.aborted) {
      const systemId = systemIds[next++]!;
      const answer = await queryOne(o, systemId, configs[systemId], signal);
      states[systemId] = answer.state;
      if (answer.error) errors[systemId] = answer.error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, systemIds.length) }, worker));
  const report: PowerStates = Object.keys(errors).length ? { states, errors } : { states };
  // The samples' age: a state the region learned after the round began is newer and stays.
  if (Object.keys(states).length > 0)
    await o.region.reportPowerStates(o.rackSystemId(), { ...report, ageMs: Date.now() - began }, signal);
  return report;
}

async function queryOne(
  o: PollerOptions,
  systemId: string,
  /** From the round's targets; asked for on its own when the region sent none. */
  known: PowerConfig | undefined,
  outer: AbortSignal,
): Promise<{ state: PowerState; error?: string }> {
  const timeout = AbortSignal.timeout(o.queryTimeoutMs);
  const signal = AbortSignal.any([outer, timeout]);
  try {
    const config = known ?? (await o.region.powerConfig(systemId, signal));
    const driver = o.drivers.get(config.powerType);
    if (!driver.queryable) return { state: 'unknown' };
    return { state: await driver.query(config, signal) };
  } catch (err) {
    const error = timeout.aborted ? `no answer within ${o.queryTimeoutMs / 1000} s` : (err as Error).message;
    return { state: 'error', error: error.slice(0, 500) };
  }
}

/** Poll until `signal` aborts; a failed round is logged once and retried next round. */
export async function pollLoop(o: PollerOptions, signal: AbortSignal): Promise<void> {
  let failing = false;
  while (!signal.aborted) {
    try {
      await pollOnce(o, signal);
      failing = false;
    } catch (err) {
      if (!failing && !signal.aborted) o.log(`power polling failed: ${(err as Error).message}`);
      failing = true;
    }
    await sleep(o.everyMs, signal).catch(() => undefined);
  }
}
