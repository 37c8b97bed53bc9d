import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { BootCache } from '../../../src/rack/boot-cache';
import { netbootSource } from '../../../src/rack/fake/boot-source';
import { FakePowerDriver } from '../../../src/rack/fake/fake-power';
import type { FakeHardwareReport } from '../../../src/rack/fake/hardware';
import { RegionClient } from '../../../src/rack/region-client';
import { bootConfig, CREDS, fakePower, SECRET, startStandIn, until, type StandIn } from './stand-in-region';

describe('FAKE machine (power_type fake)', () => {
  let region: StandIn;
  let driver: FakePowerDriver;
  let cache: BootCache;

  before(async () => {
    region = await startStandIn();
  });
  after(() => region.close());
  afterEach(async () => {
    await driver.stopAll();
    region.requests.length = 0;
    region.onRequest = undefined;
  });

  function newDriver(maxWaitMs = 5_000): FakePowerDriver {
    cache = new BootCache();
    const client = new RegionClient({ regionUrl: `${region.url}/MAAS`, secret: SECRET, timeoutMs: 2_000 });
    driver = new FakePowerDriver({
      netboot: netbootSource({ region: client, bootCache: cache, log: () => undefined, maxElapsedMs: maxWaitMs }),
      log: () => undefined,
      maxWaitMs,
    });
    return driver;
  }

  it('commissions: signals WORKING, then OK with a parseable hardware file, with PLAINTEXT OAuth', async () => {
    region.boot.set('m1', bootConfig(region, 'm1', 'commissioning'));
    const d = newDriver();
    assert.equal(await d.on(fakePower('m1', { fake_cpu_count: '16', fake_memory_mib: '32768' })), 'on');
    await d.settled('m1');

    assert.ok(
      region.requests.some((r) => r.path === '/MAAS/rack/v1/machines/m1/boot-config'),
      'netbooted through the rack API',
    );
    const [working, ok, ...rest] = region.posts();
    assert.equal(rest.length, 0);
    assert.ok(working && ok);
    assert.match(String(working.headers['content-type']), /application\/x-www-form-urlencoded/);
    const w = await region.form(working);
    assert.deepEqual([w.get('op'), w.get('status')], ['signal', 'WORKING']);

    assert.match(String(ok.headers['content-type']), /multipart\/form-data/);
    const o = await region.form(ok);
    assert.deepEqual([o.get('op'), o.get('status')], ['signal', 'OK']);
    const file = o.get('metalflow-hardware.json');
    assert.ok(file instanceof Blob, 'hardware file part');
    const hw = JSON.parse(await file.text()) as FakeHardwareReport;
    assert.equal(hw.architecture, 'amd64/generic');
    assert.equal(hw.cpu.count, 16);
    assert.equal(hw.memory_mib, 32768);
    assert.equal(hw.block_devices[0]?.size_bytes, 100_000_000_000);
    assert.equal(hw.interfaces[0]?.mac, '52:54:00:12:34:56');
    assert.match(hw.dmi.uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);

    for (const post of [working, ok]) {
      const auth = String(post.headers.authorization);
      assert.match(auth, /^OAuth oauth_version="1\.0", oauth_signature_method="PLAINTEXT", /);
      assert.ok(auth.includes(`oauth_consumer_key="${CREDS.consumerKey}"`));
      assert.ok(auth.includes(`oauth_token="${CREDS.tokenKey}"`));
      assert.ok(auth.includes(`oauth_signature="&${CREDS.tokenSecret}"`));
      assert.match(auth, /oauth_nonce="[^"]+", oauth_timestamp="\d+"$/);
    }
    assert.equal(await d.query(fakePower('m1')), 'on', 'the ephemeral environment stays up until powered off');
  });

  it('silent: netboots but posts nothing', async () => {
    region.boot.set('m2', bootConfig(region, 'm2', 'commissioning'));
    const d = newDriver();
    await d.on(fakePower('m2', { fake_behaviour: 'silent' }));
    await d.settled('m2');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(region.posts(), []);
  });

  it('fail: signals FAILED with a message', async () => {
    region.boot.set('m3', bootConfig(region, 'm3', 'commissioning'));
    const d = newDriver();
    await d.on(fakePower('m3', { fake_behaviour: 'fail' }));
    await d.settled('m3');
    const statuses = await Promise.all(region.posts().map(async (p) => (await region.form(p)).get('status')));
    assert.deepEqual(statuses, ['WORKING', 'FAILED']);
    const failed = await region.form(region.posts()[1]!);
    assert.match(String(failed.get('error')), /fake_behaviour=fail/);
  });

  it('power off stops a running machine at once: it reports nothing more', async () => {
    region.boot.set('m4', bootConfig(region, 'm4', 'commissioning'));
    const d = newDriver();
    await d.on(fakePower('m4', { fake_delay_ms: '300' }));
    await until(() => region.posts().length === 1);
    assert.equal(await d.off(fakePower('m4')), 'off');
    await d.settled('m4');
    await new Promise((r) => setTimeout(r, 450));
    assert.equal(region.posts().length, 1, 'only WORKING was sent');
    assert.equal(await d.query(fakePower('m4')), 'off');
  });

  it('deploys: WORKING, OK, then reboots and fetches user-data once the purpose is local', async () => {
    region.boot.set('m5', bootConfig(region, 'm5', 'xinstall'));
    // The region switches to local only after it has the OK (as the deploy workflow does).
    region.onRequest = (r) => {
      if (r.method === 'POST' && r.body.toString().includes('status=OK')) {
        setTimeout(() => region.boot.set('m5', bootConfig(region, 'm5', 'local')), 300);
      }
    };
    const d = newDriver();
    await d.on(fakePower('m5'));
    await d.settled('m5');
    const statuses = await Promise.all(region.posts().map(async (p) => (await region.form(p)).get('status')));
    assert.deepEqual(statuses, ['WORKING', 'OK']);
    const userData = region.requests.filter((r) => r.path === '/MAAS/metadata/2012-03-01/user-data');
    assert.equal(userData.length, 1);
    assert.match(String(userData[0]!.headers.authorization), /oauth_signature="&ts789"/);
  });

  it('waits out a restarting region: 503s and a dropped boot-config are retried', async () => {
    region.boot.set('m6', bootConfig(region, 'm6', 'commissioning'));
    region.failNext('/machines/m6/boot-config', 503, 2);
    region.failNext('/MAAS/metadata/2012-03-01/', 502, 2);
    const d = newDriver();
    await d.on(fakePower('m6'));
    await d.settled('m6');
    const statuses = await Promise.all(region.posts().map(async (p) => (await region.form(p)).get('status')));
    assert.deepEqual(statuses, ['WORKING', 'OK']);
  });

  it('boots the prepared config when the region is down', async () => {
    const d = newDriver();
    cache.set(bootConfig(region, 'm7', 'commissioning'));
    region.failNext('/machines/m7/boot-config', 503, 1);
    await d.on(fakePower('m7'));
    await d.settled('m7');
    assert.equal(region.posts().length, 2);
  });

  it('gives up quietly on a machine the region does not know (404)', async () => {
    const d = newDriver();
    await d.on(fakePower('ghost'));
    await d.settled('ghost');
    assert.deepEqual(region.posts(), []);
  });
});
