// The webhook driver against a local HTTP(S) endpoint that keeps a machine's power state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PowerConfig } from '../../src/contracts/rack-api';
import { WebhookPowerDriver } from '../../src/rack/power/webhook';
import { freePort, isPowerError } from '../helpers/bmc/peers';
import { startWebhookPeer, type WebhookPeer } from '../helpers/bmc/webhook-peer';

const never = new AbortController().signal;

function driver(backoffMs = [10, 10]) {
  const retries: string[] = [];
  return { d: new WebhookPowerDriver({ backoffMs, timeoutMs: 5_000, log: (l) => retries.push(l) }), retries };
}

const cfg = (peer: WebhookPeer | string, params: Record<string, string> = {}): PowerConfig => {
  const url = typeof peer === 'string' ? peer : peer.url;
  return {
    systemId: 'abc123',
    powerType: 'webhook',
    parameters: {
      power_on_uri: `${url}/on`,
      power_off_uri: `${url}/off`,
      power_query_uri: `${url}/status`,
      power_token: 's3cret',
      ...params,
    },
  };
};

describe('webhook driver against a local endpoint', () => {
  it("on, query, cycle, off with a bearer token and MAAS's default regexes", async () => {
    const peer = await startWebhookPeer({ token: 's3cret' });
    try {
      const { d, retries } = driver();
      assert.equal(await d.query(cfg(peer), never), 'off');
      assert.equal(await d.on(cfg(peer), never), 'on');
      assert.equal(peer.state, 'running');
      assert.equal(await d.cycle(cfg(peer), never), 'on');
      assert.equal(await d.off(cfg(peer), never), 'off');
      assert.ok(peer.requests.every((r) => r.endsWith('Bearer s3cret')));
      assert.deepEqual(
        peer.requests.filter((r) => r.startsWith('POST')).map((r) => r.split(' ')[1]),
        ['/on', '/off', '/on', '/off'],
      );
      assert.deepEqual(retries, []);
    } finally {
      await peer.stop();
    }
  });

  it('Basic auth, custom regexes, no query URI (state unknown), 503 retried', async () => {
    const peer = await startWebhookPeer({ basic: 'maas:pw' });
    try {
      const { d, retries } = driver();
      const basic = { power_token: '', power_user: 'maas', power_pass: 'pw' };
      assert.equal(
        await d.query(cfg(peer, { ...basic, power_on_regex: '"running"', power_off_regex: '"stopped"' }), never),
        'off',
      );
      assert.equal(await d.on(cfg(peer, { ...basic, power_query_uri: '' }), never), 'unknown');
      peer.failNext = 1;
      assert.equal(await d.off(cfg(peer, basic), never), 'off');
      assert.equal(retries.length, 1);
      assert.match(retries[0]!, /HTTP 503/);
    } finally {
      await peer.stop();
    }
  });

  it('a wrong token fails fatally on the first attempt; an endpoint that is down is retried, then fails', async () => {
    const peer = await startWebhookPeer({ token: 's3cret' });
    try {
      const { d, retries } = driver();
      await assert.rejects(
        d.on(cfg(peer, { power_token: 'wrong' }), never),
        isPowerError(false, /authentication failed \(HTTP 401\): \{"error": "bad token"\}/),
      );
      assert.deepEqual(retries, []);
      const down = `http://127.0.0.1:${await freePort('tcp')}`;
      await assert.rejects(d.on(cfg(down), never), isPowerError(true, /ECONNREFUSED.*gave up after 3 attempts/));
      assert.equal(retries.length, 2);
    } finally {
      await peer.stop();
    }
  });

  it('a slow endpoint: answers within the timeout are waited for; past it, retried, then a retryable error naming the wait', async () => {
    const peer = await startWebhookPeer({ token: 's3cret' });
    peer.delayMs = 300;
    try {
      const patientRetries: string[] = [];
      const patient = new WebhookPowerDriver({
        backoffMs: [50, 50],
        timeoutMs: 2_000,
        log: (l) => patientRetries.push(l),
      });
      assert.equal(await patient.query(cfg(peer), never), 'off');
      assert.equal(await patient.on(cfg(peer), never), 'on');
      assert.deepEqual(patientRetries, [], 'a slow answer within the timeout is not a failure');

      const retries: string[] = [];
      const hasty = new WebhookPowerDriver({ backoffMs: [50, 50], timeoutMs: 100, log: (l) => retries.push(l) });
      for (const [action, path] of [
        ['query', 'GET /status'],
        ['off', 'POST /off'],
      ] as const) {
        retries.length = 0;
        peer.requests.length = 0;
        const t0 = Date.now();
        await assert.rejects(
          hasty[action](cfg(peer), never),
          isPowerError(true, /no answer within 0\.1 s.*gave up after 3 attempts/),
        );
        assert.equal(retries.length, 2, `${action} retried twice: ${retries.join(' | ')}`);
        assert.ok(
          retries.every((l) => /retrying in 50 ms: .*no answer within 0\.1 s/.test(l)),
          retries.join(' | '),
        );
        assert.deepEqual(
          peer.requests.map((r) => r.split(' ').slice(0, 2).join(' ')),
          [path, path, path],
          'three attempts reached the endpoint',
        );
        assert.ok(Date.now() - t0 < 5_000, 'bounded by timeouts and backoff');
      }
      await new Promise((r) => setTimeout(r, 400)); // the abandoned requests' timers run out
      assert.equal(peer.state, 'running', 'an off the driver gave up on was not carried out late');
    } finally {
      await peer.stop();
    }
  });

  it('verify_ssl: n accepts a self-signed endpoint, y refuses it fatally', async () => {
    const peer = await startWebhookPeer({ token: 's3cret', tls: true });
    try {
      const { d } = driver();
      assert.equal(await d.on(cfg(peer, { power_verify_ssl: 'n' }), never), 'on');
      await assert.rejects(d.off(cfg(peer, { power_verify_ssl: 'y' }), never), isPowerError(false, /certificate/));
    } finally {
      await peer.stop();
    }
  });
});
