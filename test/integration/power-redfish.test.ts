// The redfish driver against a real Redfish service: sushy-emulator (PyPI sushy-tools) with its
// fake driver, Basic auth (sushy has no SessionService: the driver falls back to Basic), over HTTP
// and over HTTPS with a self-signed certificate; sessions against a small node:http Redfish BMC.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PowerConfig } from '../../src/contracts/rack-api';
import { RedfishPowerDriver } from '../../src/rack/power/redfish';
import { freePort, isPowerError, skipUnless } from '../helpers/bmc/peers';
import { startRedfishPeer, type RedfishPeer } from '../helpers/bmc/redfish-peer';
import { SUSHY, startSushy, type Sushy } from '../helpers/bmc/sushy';

const skip = skipUnless(SUSHY, '.venv/bin/pip install sushy-tools');
const never = new AbortController().signal;
// The fake system changes power state 0–1 s after a reset: the settle schedule covers ~3 s.
const SCHEDULE = [100, 200, 400, 800, 1600];

function driver(backoffMs = SCHEDULE) {
  const retries: string[] = [];
  return { d: new RedfishPowerDriver({ backoffMs, timeoutMs: 5_000, log: (l) => retries.push(l) }), retries };
}

const cfg = (address: string, params: Record<string, string> = {}): PowerConfig => ({
  systemId: 'abc123',
  powerType: 'redfish',
  parameters: { power_address: address, power_user: 'admin', power_pass: 'password', ...params },
});

describe('redfish driver against sushy-emulator (fake driver)', { skip }, () => {
  let bmc: Sushy;
  before(async () => (bmc = await startSushy()));
  after(async () => bmc?.stop());

  it('sets next boot Pxe/Once, powers on, queries, cycles and powers off (first system)', async () => {
    const { d, retries } = driver();
    assert.equal(await d.query(cfg(bmc.address), never), 'off');
    await d.setNextBootPxe(cfg(bmc.address), never);
    const system = await bmc.system();
    assert.equal(system.Boot.BootSourceOverrideTarget, 'Pxe');
    // The driver sends BootSourceOverrideEnabled "Once"; sushy records only the target (it
    // reports "Continuous" whatever it is sent), so that half is not observable here.
    assert.equal(await d.on(cfg(bmc.address), never), 'on');
    assert.equal(await d.query(cfg(bmc.address), never), 'on');
    assert.equal(await d.cycle(cfg(bmc.address), never), 'on');
    assert.equal(await d.off(cfg(bmc.address), never), 'off');
    assert.equal((await bmc.system()).PowerState, 'Off');
    assert.deepEqual(retries, []);
  });

  it('uses node_id when given; an unknown one is fatal', async () => {
    const { d } = driver();
    assert.equal(await d.query(cfg(bmc.address, { node_id: 'fake' }), never), 'off');
    await assert.rejects(d.query(cfg(bmc.address, { node_id: 'nope' }), never), isPowerError(false, /HTTP 404/));
  });

  it("a wrong password fails fatally on the first attempt, with the BMC's words", async () => {
    const { d, retries } = driver();
    await assert.rejects(
      d.on(cfg(bmc.address, { power_pass: 'wrong' }), never),
      isPowerError(false, /authentication failed \(HTTP 401\)/),
    );
    assert.deepEqual(retries, []);
  });

  it('a BMC that is down is retried on the schedule, then fails retryably with the reason', async () => {
    const { d, retries } = driver([10, 10]);
    const down = `http://127.0.0.1:${await freePort('tcp')}`;
    await assert.rejects(d.query(cfg(down), never), isPowerError(true, /ECONNREFUSED.*gave up after 3 attempts/));
    assert.equal(retries.length, 2);
  });
});

describe('redfish driver over HTTPS with a self-signed certificate', { skip }, () => {
  let bmc: Sushy;
  before(async () => (bmc = await startSushy({ tls: true })));
  after(async () => bmc?.stop());

  it('power_verify_ssl n (the default) accepts it; y refuses it fatally', async () => {
    const { d } = driver();
    assert.equal(await d.query(cfg(bmc.address), never), 'off');
    // MAAS's form: an address without a scheme means https.
    assert.equal(await d.query(cfg(bmc.address.replace('https://', ''), { power_verify_ssl: 'n' }), never), 'off');
    await assert.rejects(
      d.query(cfg(bmc.address, { power_verify_ssl: 'y' }), never),
      isPowerError(false, /certificate/),
    );
  });
});

describe('redfish sessions (node:http Redfish BMC with a SessionService)', () => {
  let bmc: RedfishPeer;
  before(async () => (bmc = await startRedfishPeer({ systems: 2, record: true })));
  after(async () => bmc?.stop());
  const node = (id: string, params: Record<string, string> = {}) => cfg(bmc.addresses[0]!, { node_id: id, ...params });

  it('logs in once (concurrent requests share the login), reuses the token, logs out on close', async () => {
    const { d, retries } = driver();
    bmc.requests.length = 0;
    const states = await Promise.all([d.query(node('0'), never), d.query(node('1'), never), d.query(node('0'), never)]);
    assert.deepEqual(states, ['off', 'on', 'off']);
    for (let i = 0; i < 3; i++) assert.equal(await d.query(node('1'), never), 'on');
    assert.equal(bmc.logins, 1);
    assert.deepEqual(
      bmc.requests.filter((r) => r.startsWith('POST')),
      ['POST /redfish/v1/SessionService/Sessions none'],
    );
    assert.ok(
      bmc.requests.filter((r) => r.startsWith('GET /redfish/v1/Systems')).every((r) => r.endsWith(' token')),
      bmc.requests.join('\n'),
    );
    await d.close();
    assert.equal(bmc.logouts, 1);
    assert.deepEqual(retries, []);
  });

  it('an expired token is replaced by one new login, and the request succeeds', async () => {
    const { d } = driver();
    assert.equal(await d.query(node('1'), never), 'on');
    const logins = bmc.logins;
    bmc.expireSessions();
    bmc.requests.length = 0;
    assert.equal(await d.query(node('1'), never), 'on');
    assert.equal(bmc.logins, logins + 1);
    assert.deepEqual(bmc.requests, [
      'GET /redfish/v1/Systems/1 token',
      'GET /redfish/v1 none',
      'POST /redfish/v1/SessionService/Sessions none',
      'GET /redfish/v1/Systems/1 token',
    ]);
    assert.equal(await d.query(node('1'), never), 'on');
    assert.equal(bmc.logins, logins + 1);
  });

  it('next boot: PATCHes BootSourceOverrideTarget Pxe with BootSourceOverrideEnabled Once on the system', async () => {
    const { d } = driver();
    bmc.patches.length = 0;
    await d.setNextBootPxe(node('1'), never);
    assert.deepEqual(bmc.patches, [
      {
        path: '/redfish/v1/Systems/1',
        body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } },
      },
    ]);
    await d.close();
  });

  it('a slow BMC: answers within the timeout are waited for; past it, retried, then a retryable error naming the wait', async () => {
    bmc.delayMs = 300;
    try {
      const patient = new RedfishPowerDriver({ backoffMs: [50, 50], timeoutMs: 2_000, log: () => undefined });
      assert.equal(await patient.query(node('1'), never), 'on');
      await patient.close();
      const retries: string[] = [];
      const hasty = new RedfishPowerDriver({ backoffMs: [50, 50], timeoutMs: 100, log: (l) => retries.push(l) });
      const t0 = Date.now();
      await assert.rejects(hasty.query(node('1'), never), isPowerError(true, /no answer within 0\.1 s/));
      assert.equal(retries.length, 2, `retried twice: ${retries.join(' | ')}`);
      assert.ok(Date.now() - t0 < 5_000, 'bounded by timeouts and backoff');
    } finally {
      bmc.delayMs = 0;
    }
  });

  it('a wrong password fails fatally at login, without retries, and is not remembered', async () => {
    const { d, retries } = driver();
    await assert.rejects(
      d.query(node('0', { power_pass: 'wrong' }), never),
      isPowerError(false, /login.*authentication failed \(HTTP 401\): Invalid username or password/),
    );
    assert.deepEqual(retries, []);
    assert.equal(await d.query(node('0'), never), 'off', 'the right password logs in');
  });

  it('a BMC whose service root names no sessions gets Basic auth, and is asked only once', async () => {
    const basic = await startRedfishPeer({ systems: 1, sessions: false, record: true });
    try {
      const { d } = driver();
      for (let i = 0; i < 3; i++) assert.equal(await d.query(cfg(basic.addresses[0]!, { node_id: '0' }), never), 'off');
      assert.deepEqual(basic.requests, ['GET /redfish/v1 none', ...Array(3).fill('GET /redfish/v1/Systems/0 basic')]);
    } finally {
      await basic.stop();
    }
  });
});
