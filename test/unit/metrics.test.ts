// The pieces behind both /metrics: request latency labelled by route template (bounded), power
// actions counted by driver and outcome, lifecycle outcomes classified, the lease gauge. The
// scrapes of a running region and rack are in test/integration/metrics.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorBoundary } from '../../src/api/http/errors-middleware';
import { requestMetrics } from '../../src/api/http/request-metrics';
import { createApiRouter } from '../../src/api/http/router';
import { metricsRoute } from '../../src/api/metrics-route';
import { MachineStatus as S } from '../../src/contracts/statuses';
import type { PowerConfig } from '../../src/contracts/rack-api';
import { RackMetrics } from '../../src/rack/metrics';
import { PowerError, type PowerDriver } from '../../src/rack/power/driver';
import { meteredRegistry } from '../../src/rack/power/metered';
import { PowerDriverRegistry } from '../../src/rack/power/registry';
import { RegionMetrics } from '../../src/region/metrics';
import { outcomeOf } from '../../src/region/temporal/workflow-metrics';
import { parseExposition } from '../helpers/prometheus';
import { sampleResources, testAuthenticate } from './api-http/sample-registry';
import { serve } from './api-http/serve';

const cfg: PowerConfig = { systemId: 'abc123', powerType: 'test', parameters: {} };

describe('region request metrics', () => {
  it('label requests by route template and op, never by the raw URL; unknown paths share one label', async () => {
    const metrics = new RegionMetrics();
    const server = await serve((app) => {
      app.use(requestMetrics(metrics.httpRequestLatency));
      app.use(errorBoundary({ log: () => {} }));
      app.use(metricsRoute(metrics.registry));
      app.use(createApiRouter({ resources: sampleResources(), authenticate: testAuthenticate }));
    });
    try {
      const call = (method: string, path: string) =>
        fetch(`${server.url}/MAAS/api/2.0${path}`, { method, headers: { Authorization: 'Test alice' } });
      for (const id of ['aaa111', 'bbb222', 'ccc333'])
        assert.equal((await call('GET', `/machines/${id}/`)).status, 200);
      assert.equal((await call('POST', '/machines/aaa111/?op=deploy')).status, 200);
      assert.equal((await call('POST', '/machines/aaa111/?op=nosuch')).status, 400);
      for (const junk of ['/x1/', '/x2/']) assert.equal((await call('GET', junk)).status, 404);

      const scrape = await fetch(`${server.url}/MAAS/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const m = parseExposition(await scrape.text());
      assert.equal(m.types.get('maas_http_request_latency'), 'histogram');
      const count = (labels: Record<string, string>) => m.sum('maas_http_request_latency_count', labels);
      const one = '/MAAS/api/2.0/machines/{system_id}/';
      assert.equal(count({ method: 'GET', path: one, status: '200', op: '' }), 3, 'three machines, one series');
      assert.equal(count({ method: 'POST', path: one, status: '200', op: 'deploy' }), 1);
      assert.equal(count({ method: 'POST', path: one, status: '400', op: '' }), 1, 'an undeclared op is no label');
      assert.equal(count({ path: 'unmatched', status: '404' }), 2);
      const paths = new Set(m.find('maas_http_request_latency_count').map((s) => s.labels.path));
      assert.ok(![...paths].some((p) => p?.includes('aaa111')), `no raw ids in labels: ${[...paths].join(', ')}`);
      assert.equal((await fetch(`${server.url}/MAAS/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });
});

describe('lifecycle workflow outcomes', () => {
  it('a failure status is failed, the operation’s abort status aborted, anything else completed', () => {
    assert.equal(outcomeOf({ to: S.READY, expectFrom: [S.COMMISSIONING] }), 'completed');
    assert.equal(outcomeOf({ to: S.FAILED_COMMISSIONING, expectFrom: [S.COMMISSIONING] }), 'failed');
    assert.equal(outcomeOf({ to: S.NEW, expectFrom: [S.COMMISSIONING] }), 'aborted');
    assert.equal(outcomeOf({ to: S.ALLOCATED, expectFrom: [S.DEPLOYING] }), 'aborted');
    assert.equal(outcomeOf({ to: S.DEPLOYED, expectFrom: [S.DEPLOYING] }), 'completed');
  });
});

describe('rack metrics', () => {
  function driver(behaviour: 'ok' | 'fail' | 'hang'): PowerDriver {
    const act = async (_c: PowerConfig, signal: AbortSignal) => {
      if (behaviour === 'fail') throw PowerError.retryable('BMC did not answer');
      if (behaviour === 'hang') {
        await new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      return 'on' as const;
    };
    return { name: `test-${behaviour}`, queryable: true, on: act, off: act, cycle: act, query: act };
  }

  it('power actions by driver, action and outcome (success, failure, cancelled); errors pass through', async () => {
    const metrics = new RackMetrics();
    const registry = meteredRegistry(
      new PowerDriverRegistry([driver('ok'), driver('fail'), driver('hang')]),
      (d, action, outcome) => metrics.powerActions.inc({ driver: d, action, outcome }),
    );
    const signal = new AbortController().signal;
    assert.equal(await registry.get('test-ok').on(cfg, signal), 'on');
    assert.equal(await registry.get('test-ok').query(cfg, signal), 'on');
    await assert.rejects(registry.get('test-fail').off(cfg, signal), /BMC did not answer/);
    const abort = new AbortController();
    const hanging = registry.get('test-hang').cycle(cfg, abort.signal);
    abort.abort();
    await assert.rejects(hanging);
    assert.throws(() => registry.get('nosuch'), /Unknown power type 'nosuch'/);
    assert.equal(registry.get('test-ok').queryable, true);

    const m = parseExposition(await metrics.registry.metrics());
    const n = (labels: Record<string, string>) => m.sum('metalflow_rack_power_actions_total', labels);
    assert.equal(n({ driver: 'test-ok', action: 'on', outcome: 'success' }), 1);
    assert.equal(n({ driver: 'test-ok', action: 'query', outcome: 'success' }), 1);
    assert.equal(n({ driver: 'test-fail', action: 'off', outcome: 'failure' }), 1);
    assert.equal(n({ driver: 'test-hang', action: 'cycle', outcome: 'cancelled' }), 1);
  });

  it('the lease gauge counts the lease table by state at scrape time, every state present', async () => {
    const metrics = new RackMetrics();
    let leases = [
      { ip: 1, mac: 'aa:bb:cc:dd:ee:01', hostname: '', state: 'bound' as const, expiresAt: 0 },
      { ip: 2, mac: 'aa:bb:cc:dd:ee:02', hostname: '', state: 'bound' as const, expiresAt: 0 },
    ];
    metrics.readLeasesFrom(() => leases);
    let m = parseExposition(await metrics.registry.metrics());
    assert.equal(m.sum('metalflow_rack_dhcp_leases', { state: 'bound' }), 2);
    assert.equal(m.find('metalflow_rack_dhcp_leases', { state: 'offered' })[0]?.value, 0);
    leases = [];
    m = parseExposition(await metrics.registry.metrics());
    assert.equal(m.sum('metalflow_rack_dhcp_leases', { state: 'bound' }), 0);
  });
});
