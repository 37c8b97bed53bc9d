import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PowerConfig, PowerStates } from '../../../src/contracts/rack-api';
import type { PowerDriver } from '../../../src/rack/power/driver';
import { pollOnce, type PollerOptions } from '../../../src/rack/power/poller';

/** A BMC network where each query takes a while, counting how many are in flight at once. */
function network(count: number, queryMs: number) {
  let inFlight = 0;
  let peak = 0;
  const reports: PowerStates[] = [];
  const driver: PowerDriver = {
    name: 'test',
    queryable: true,
    on: async () => 'on',
    off: async () => 'off',
    cycle: async () => 'on',
    query: async (cfg: PowerConfig) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, queryMs));
      inFlight -= 1;
      if (cfg.systemId === 'broken') throw new Error('BMC does not answer');
      return cfg.systemId.endsWith('1') ? 'on' : 'off';
    },
  };
  const ids = [...Array.from({ length: count }, (_, i) => `m${i}`), 'broken', 'manual'];
  const region = {
    powerTargets: async () => ({ systemIds: ids }),
    powerConfig: async (systemId: string): Promise<PowerConfig> => ({
      systemId,
      powerType: systemId === 'manual' ? 'manual' : 'test',
      parameters: {},
    }),
    reportPowerStates: async (_rack: string, report: PowerStates) => void reports.push(report),
  };
  const manual: PowerDriver = { ...driver, name: 'manual', queryable: false };
  const drivers = { get: (type: string) => (type === 'manual' ? manual : driver) };
  return { region, drivers, reports, peak: () => peak };
}

/** One round with a test's region, drivers, concurrency and query timeout (the rest as every test has it). */
const poll = (o: Pick<PollerOptions, 'region' | 'drivers' | 'concurrency' | 'queryTimeoutMs'>) =>
  pollOnce({ ...o, rackSystemId: () => 'rack1', everyMs: 1000, log: () => undefined }, new AbortController().signal);

describe('rack power polling', () => {
  it('queries every machine at most `concurrency` at a time and reports one round', async () => {
    const net = network(25, 20);
    const result = await poll({
      region: net.region,
      drivers: net.drivers,
      concurrency: 4,
      queryTimeoutMs: 1000,
    });
    assert.equal(net.peak(), 4);
    assert.equal(net.reports.length, 1);
    assert.equal(Object.keys(result.states).length, 27);
    assert.equal(result.states.m1, 'on');
    assert.equal(result.states.m2, 'off');
    assert.equal(result.states.broken, 'error', 'a BMC that fails is reported, not fatal to the round');
    assert.equal(result.states.manual, 'unknown', 'manual power cannot be queried');
  });

  it('gives up on a slow BMC at the query timeout', async () => {
    const net = network(1, 500);
    const result = await poll({
      region: {
        ...net.region,
        powerConfig: async (systemId: string, signal?: AbortSignal) => {
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, 5_000);
            signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(new Error('aborted'));
            });
          });
          return { systemId, powerType: 'test', parameters: {} };
        },
      },
      drivers: net.drivers,
      concurrency: 2,
      queryTimeoutMs: 50,
    });
    assert.equal(result.states.m0, 'error');
  });

  it("takes each query's parameters from the round's targets, asking only for a target they left out", async () => {
    const net = network(3, 1);
    const asked: string[] = [];
    const queriedWith: Record<string, Record<string, string>> = {};
    const drivers = {
      get: () => ({
        ...net.drivers.get('test'),
        query: async (cfg: PowerConfig) => {
          queriedWith[cfg.systemId] = cfg.parameters;
          return 'off' as const;
        },
      }),
    };
    const result = await poll({
      region: {
        ...net.region,
        powerTargets: async () => ({
          systemIds: ['m0', 'm1', 'm2'],
          configs: {
            m0: { systemId: 'm0', powerType: 'test', parameters: { power_address: '10.0.0.10' } },
            m1: { systemId: 'm1', powerType: 'test', parameters: { power_address: '10.0.0.11' } },
          },
        }),
        powerConfig: async (systemId: string) => {
          asked.push(systemId);
          return { systemId, powerType: 'test', parameters: { power_address: 'asked' } };
        },
      },
      drivers,
      concurrency: 2,
      queryTimeoutMs: 1000,
    });
    assert.deepEqual(asked, ['m2'], 'only the target without a config is asked for its own');
    assert.deepEqual(queriedWith, {
      m0: { power_address: '10.0.0.10' },
      m1: { power_address: '10.0.0.11' },
      m2: { power_address: 'asked' },
    });
    assert.deepEqual(result.states, { m0: 'off', m1: 'off', m2: 'off' });
  });
});
