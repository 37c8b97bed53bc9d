import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BootConfig } from '../../../src/contracts/rack-api';
import { createHttpBootServer, type HttpBootOptions } from '../../../src/rack/boot/http-server';
import { parseRange } from '../../../src/rack/boot/static-files';
import { RegionClient } from '../../../src/rack/region-client';
import { makeBootRoot, SECRET_TEXT, type BootRootFixture } from './boot-fixtures';
import { bootConfig, CREDS, SECRET, startStandIn, type StandIn } from './stand-in-region';

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as given (no client-side `..` resolution). */
function request(
  port: number,
  rawPath: string,
  o: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: rawPath, method: o.method ?? 'GET', headers: o.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

async function serve(
  o: Partial<HttpBootOptions> & Pick<HttpBootOptions, 'bootRoot' | 'regionUrl' | 'bootConfigByMac'>,
  lines: string[],
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createHttpBootServer({ log: (l) => lines.push(l), ...o });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const MAC = '52:54:00:12:34:56';
const MAC_PATH = '/ipxe/mac/52-54-00-12-34-56.ipxe';

describe('HTTP boot server', () => {
  let fx: BootRootFixture;
  let region: StandIn;
  let rack: { port: number; close(): Promise<void> };
  const lines: string[] = [];
  const cached = new Map<string, BootConfig>();
  // This rack's DHCP leases (a fake): every MAC holds 127.0.0.1, the test client's address,
  // unless a test leases it elsewhere.
  const leasedElsewhere = new Map<string, string[]>();
  const leasedAddresses = (mac: string) => leasedElsewhere.get(mac) ?? ['127.0.0.1'];

  before(async () => {
    fx = makeBootRoot();
    region = await startStandIn();
    const client = new RegionClient({ regionUrl: `${region.url}/MAAS`, secret: SECRET });
    rack = await serve(
      {
        bootRoot: fx.root,
        regionUrl: `${region.url}/MAAS`,
        bootConfigByMac: (mac, signal) => client.bootConfigByMac('rack1', mac, signal),
        prepared: { byMac: (mac) => cached.get(mac), delete: (id) => cached.delete(id) },
        leasedAddresses,
      },
      lines,
    );
  });
  after(async () => {
    await rack.close();
    await region.close();
    fx.remove();
  });

  it('serves the first script pointing at the address and port the request arrived on', async () => {
    const got = await request(rack.port, '/ipxe/boot.ipxe');
    assert.equal(got.status, 200);
    assert.match(
      got.body.toString(),
      new RegExp(`^chain --replace http://127\\.0\\.0\\.1:${rack.port}/ipxe/mac/\\$\\{mac:hexhyp\\}\\.ipxe `, 'm'),
    );
    assert.equal(Number(got.headers['content-length']), got.body.length);
  });

  it("renders the per-MAC script from the region's boot config for that MAC", async () => {
    region.boot.set('m1', { ...bootConfig(region, 'm1', 'commissioning'), macAddresses: [MAC] });
    const got = await request(
      rack.port,
      MAC_PATH.toUpperCase().replace('/IPXE/MAC/', '/ipxe/mac/').replace('.IPXE', '.ipxe'),
    );
    assert.equal(got.status, 200, got.body.toString());
    const script = got.body.toString();
    assert.match(script, /mf\.purpose=commissioning /);
    assert.match(script, /mf\.system_id=m1\b/);
    assert.match(
      script,
      new RegExp(`mf\\.ck=${CREDS.consumerKey} mf\\.tk=${CREDS.tokenKey} mf\\.ts=${CREDS.tokenSecret}`),
    );
    assert.match(script, new RegExp(`mf\\.metadata=http://127\\.0\\.0\\.1:${rack.port}/MAAS/metadata `));
    const asked = region.requests.filter((r) => r.path.startsWith('/MAAS/rack/v1/racks/rack1/boot-config/'));
    assert.equal(decodeURIComponent(asked.at(-1)!.path.split('/').at(-1)!), MAC);
  });

  it('credentials go only to the address this rack leased to the MAC (issue 15)', async () => {
    region.boot.set('m3', { ...bootConfig(region, 'm3', 'commissioning'), macAddresses: ['52:54:00:00:00:33'] });
    const path = '/ipxe/mac/52-54-00-00-00-33.ipxe';
    try {
      // A stranger asking for another machine's script: the MAC's lease is someone else's address.
      leasedElsewhere.set('52:54:00:00:00:33', ['10.0.0.33']);
      const stranger = await request(rack.port, path);
      assert.equal(stranger.status, 403);
      assert.match(stranger.body.toString(), /only to the address this rack leased to it, not to 127\.0\.0\.1/);
      assert.doesNotMatch(stranger.body.toString(), new RegExp(CREDS.tokenSecret));
      // No lease on this rack at all (another rack's or an external DHCP server's client).
      leasedElsewhere.set('52:54:00:00:00:33', []);
      const unleased = await request(rack.port, path);
      assert.equal(unleased.status, 403);
      assert.match(unleased.body.toString(), /holds no lease here/);
      // The machine itself, from its leased address.
      leasedElsewhere.set('52:54:00:00:00:33', ['10.0.0.9', '127.0.0.1']);
      const own = await request(rack.port, path);
      assert.equal(own.status, 200);
      assert.match(own.body.toString(), new RegExp(`mf\\.ts=${CREDS.tokenSecret}`));
      // Boots without credentials (power off, local) are nobody's secret: anyone gets them.
      leasedElsewhere.set('52:54:00:00:00:33', []);
      const { credentials: _, ...noCreds } = bootConfig(region, 'm3', 'poweroff');
      region.boot.set('m3', { ...noCreds, macAddresses: ['52:54:00:00:00:33'] });
      const off = await request(rack.port, path);
      assert.equal(off.status, 200);
      assert.match(off.body.toString(), /poweroff/);
    } finally {
      leasedElsewhere.clear();
      region.boot.delete('m3');
    }
  });

  it('a rack without DHCP hands out no credentials; the cache forgets a machine whose phase ended', async () => {
    const MAC4 = '52:54:00:00:00:44';
    const MAC4_PATH = '/ipxe/mac/52-54-00-00-00-44.ipxe';
    const client = new RegionClient({ regionUrl: `${region.url}/MAAS`, secret: SECRET });
    const prepared = new Map([['m4', { ...bootConfig(region, 'm4', 'commissioning'), macAddresses: [MAC4] }]]);
    const byMac = (mac: string) => [...prepared.values()].find((c) => c.macAddresses.includes(mac));
    const noDhcp = await serve(
      {
        bootRoot: fx.root,
        regionUrl: `${region.url}/MAAS`,
        bootConfigByMac: (m, s) => client.bootConfigByMac('rack1', m, s),
        prepared: { byMac, delete: (id) => prepared.delete(id) },
      },
      [],
    );
    try {
      region.boot.set('m4', { ...bootConfig(region, 'm4', 'commissioning'), macAddresses: [MAC4] });
      const refused = await request(noDhcp.port, MAC4_PATH);
      assert.equal(refused.status, 403);
      assert.match(refused.body.toString(), /this rack serves no DHCP/);
      // The region says the phase is over (no credentials): the prepared config goes too.
      const { credentials: _, ...ready } = bootConfig(region, 'm4', 'poweroff');
      region.boot.set('m4', { ...ready, macAddresses: [MAC4] });
      assert.equal((await request(noDhcp.port, MAC4_PATH)).status, 200);
      assert.equal(prepared.size, 0, 'the commissioning config (with the token) is no longer prepared');
    } finally {
      region.boot.delete('m4');
      await noDhcp.close();
    }
  });

  it('a MAC the region does not know enlists', async () => {
    const got = await request(rack.port, '/ipxe/mac/52-54-00-99-99-99.ipxe');
    assert.equal(got.status, 200);
    assert.match(got.body.toString(), /mf\.purpose=enlist/);
    assert.doesNotMatch(got.body.toString(), /mf\.tk=/);
  });

  it('anything but a MAC in the script path is a 400', async () => {
    for (const bad of [
      '/ipxe/mac/zz-54-00-12-34-56.ipxe',
      '/ipxe/mac/52-54-00-12-34.ipxe',
      '/ipxe/mac/52:54:00:12:34:56.ipxe',
      '/ipxe/mac/../boot.ipxe',
      '/ipxe/other.ipxe',
    ]) {
      const got = await request(rack.port, bad);
      assert.equal(got.status, 400, bad);
      assert.match(got.body.toString(), /MAC/);
    }
  });

  it('a region that fails (5xx) → the config this rack prepared, else 503 with a reason', async () => {
    cached.set(MAC, { ...bootConfig(region, 'm1', 'xinstall'), macAddresses: [MAC] });
    try {
      region.failNext('/boot-config/', 503);
      const got = await request(rack.port, MAC_PATH);
      assert.equal(got.status, 200, got.body.toString());
      assert.match(got.body.toString(), /mf\.purpose=xinstall/);
      assert.ok(
        lines.some((l) => l.includes(MAC_PATH) && l.includes('from cache')),
        lines.join('\n'),
      );

      region.failNext('/boot-config/', 500);
      const none = await request(rack.port, '/ipxe/mac/52-54-00-00-00-01.ipxe');
      assert.equal(none.status, 503);
      assert.match(none.headers['content-type'] ?? '', /^text\/plain/);
      assert.match(none.body.toString(), /52:54:00:00:00:01.*none prepared/);
    } finally {
      cached.clear();
    }
  });

  it('an unreachable or hanging region → cache or 503; a region that refuses (4xx) → 502', async () => {
    const prepared = new Map([[MAC, { ...bootConfig(region, 'm9', 'commissioning'), macAddresses: [MAC] }]]);
    const down = new RegionClient({ regionUrl: 'http://127.0.0.1:1/MAAS', secret: SECRET });
    const offline = await serve(
      {
        bootRoot: fx.root,
        regionUrl: 'http://127.0.0.1:1/MAAS',
        bootConfigByMac: (m, s) => down.bootConfigByMac('r', m, s),
        prepared: { byMac: (m) => prepared.get(m) },
        leasedAddresses,
      },
      [],
    );
    const hanging = await serve(
      {
        bootRoot: fx.root,
        regionUrl: region.url,
        bootConfigByMac: (_m, s) =>
          new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason as Error))),
        timeoutMs: 100,
      },
      [],
    );
    const wrong = new RegionClient({ regionUrl: region.url, secret: 'wrong' });
    const refused = await serve(
      {
        bootRoot: fx.root,
        regionUrl: region.url,
        bootConfigByMac: (m, s) => wrong.bootConfigByMac('r', m, s),
        prepared: { byMac: (m) => prepared.get(m) },
      },
      [],
    );
    try {
      assert.match((await request(offline.port, MAC_PATH)).body.toString(), /mf\.system_id=m9/);
      const unknown = await request(offline.port, '/ipxe/mac/52-54-00-00-00-02.ipxe');
      assert.equal(unknown.status, 503);
      assert.match(unknown.body.toString(), /unreachable/i);
      const slow = await request(hanging.port, MAC_PATH);
      assert.equal(slow.status, 503);
      assert.match(slow.body.toString(), /did not answer in time/);
      const no = await request(refused.port, MAC_PATH);
      assert.equal(no.status, 502);
      assert.match(no.body.toString(), /refused.*401/);
    } finally {
      await Promise.all([offline.close(), hanging.close(), refused.close()]);
    }
  });

  it('a boot config with a value unsafe for a kernel command line is a 500, not a script', async () => {
    region.boot.set('m2', {
      ...bootConfig(region, 'm2', 'commissioning'),
      macAddresses: ['52:54:00:00:00:22'],
      credentials: { ...CREDS, tokenSecret: 'x init=/bin/sh' },
    });
    const got = await request(rack.port, '/ipxe/mac/52-54-00-00-00-22.ipxe');
    assert.equal(got.status, 500);
    assert.doesNotMatch(got.body.toString(), /kernel/);
  });

  it('serves boot root files with Content-Length, HEAD and byte ranges', async () => {
    const full = await request(rack.port, '/images/ephemeral/amd64/vmlinuz');
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-length'], String(fx.kernel.length));
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.ok(full.body.equals(fx.kernel));

    const head = await request(rack.port, '/images/ephemeral/amd64/initrd.gz', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(fx.initrd.length));
    assert.equal(head.body.length, 0);

    const part = await request(rack.port, '/images/ephemeral/amd64/vmlinuz', { headers: { range: 'bytes=1000-1999' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${fx.kernel.length}`);
    assert.ok(part.body.equals(fx.kernel.subarray(1000, 2000)));
    const tail = await request(rack.port, '/images/ephemeral/amd64/vmlinuz', { headers: { range: 'bytes=-10' } });
    assert.ok(tail.body.equals(fx.kernel.subarray(-10)));
    const beyond = await request(rack.port, '/images/ephemeral/amd64/vmlinuz', {
      headers: { range: `bytes=${fx.kernel.length}-` },
    });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${fx.kernel.length}`);

    // UEFI HTTP boot fetches the loader by its bare name.
    const efi = await request(rack.port, '/ipxe.efi');
    assert.equal(efi.status, 200);
    assert.ok(efi.body.equals(fx.loader));
    assert.equal((await request(rack.port, '/images/nothing-here')).status, 404);
    assert.equal((await request(rack.port, '/images/ephemeral/amd64/vmlinuz', { method: 'DELETE' })).status, 405);
  });

  it('range parsing', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseRange('bytes=5-100', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-4', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
    assert.equal(parseRange('items=0-1', 10), undefined);
    assert.equal(parseRange(undefined, 10), undefined);
  });

  it('never serves anything outside the boot root: dot segments, encoded dots, symlinks out', async () => {
    const attempts = [
      '/images/../../etc/passwd',
      '/../../../../etc/passwd',
      '/images/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/images/%2E%2E%2F%2E%2E%2Foutside/secret',
      '/images/..%2f..%2f..%2fetc%2fpasswd',
      '/images/secret-link',
      '/images/outside-dir/secret',
      '/images/%00/x',
      '/ipxe.efi/../../outside/secret',
    ];
    for (const attempt of attempts) {
      const got = await request(rack.port, attempt);
      assert.ok(got.status === 403 || got.status === 404 || got.status === 400, `${attempt} → ${got.status}`);
      assert.doesNotMatch(got.body.toString(), /root:|TOP-SECRET/, attempt);
    }
    assert.equal((await request(rack.port, '/images/secret-link')).status, 403);
    assert.equal((await request(rack.port, '/images/%2e%2e/%2e%2e/outside/secret')).status, 403);
    assert.equal((await request(rack.port, '/images/%zz')).status, 400);
    assert.ok(SECRET_TEXT);
  });

  it('proxies /MAAS/ to the region: a multipart POST arrives intact, answers come back', async () => {
    const before = region.requests.length;
    const form = new FormData();
    form.set('op', 'signal');
    form.set('status', 'WORKING');
    const blob = crypto.randomBytes(200_000);
    form.set('lshw.xml', new Blob([blob]), 'lshw.xml');
    const res = await fetch(`http://127.0.0.1:${rack.port}/MAAS/metadata/2012-03-01/`, {
      method: 'POST',
      body: form,
      headers: { authorization: 'OAuth oauth_token="tk"' },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
    const got = region.requests.slice(before).find((r) => r.method === 'POST');
    assert.ok(got, 'the region never saw the POST');
    assert.equal(got.path, '/MAAS/metadata/2012-03-01/');
    assert.equal(got.headers.authorization, 'OAuth oauth_token="tk"');
    assert.equal(got.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(got.headers.host, `127.0.0.1:${rack.port}`);
    const fields = await region.form(got);
    assert.equal(fields.get('status'), 'WORKING');
    assert.ok(Buffer.from(await (fields.get('lshw.xml') as Blob).arrayBuffer()).equals(blob));

    const userData = await request(rack.port, '/MAAS/metadata/2012-03-01/user-data?x=1');
    assert.equal(userData.status, 200);
    assert.equal(userData.body.toString(), '#cloud-config\n');
    assert.equal(region.requests.at(-1)!.path, '/MAAS/metadata/2012-03-01/user-data?x=1');
    // The region's own errors pass through untouched.
    assert.equal((await request(rack.port, '/MAAS/metadata/nothing')).status, 404);
    assert.equal(region.requests.at(-1)!.path, '/MAAS/metadata/nothing');
    // The racks' own API and the rest of the region are never proxied for machines.
    const seen = region.requests.length;
    for (const p of [
      '/MAAS/rack/v1/racks/rack1/dhcp-config',
      '/MAAS//rack/v1/register',
      '/MAAS/RACK/v1/x',
      '/MAAS/api/2.0/nothing',
    ]) {
      assert.equal((await request(rack.port, p)).status, 404, p);
    }
    assert.equal(region.requests.length, seen, 'nothing reached the region');
  });

  it('proxy: a region that is down is a 502 with a message that says so', async () => {
    const offline = await serve(
      {
        bootRoot: fx.root,
        regionUrl: 'http://127.0.0.1:1/MAAS',
        bootConfigByMac: () => Promise.reject(new Error('down')),
      },
      [],
    );
    try {
      const got = await request(offline.port, '/MAAS/metadata/2012-03-01/', {
        method: 'POST',
        body: Buffer.from('op=signal&status=OK'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(got.status, 502);
      assert.match(got.body.toString(), /region at http:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/);
    } finally {
      await offline.close();
    }
  });

  it('logs one line per request', async () => {
    const n = lines.length;
    await request(rack.port, '/images/ephemeral/amd64/initrd.gz');
    // The server logs when its side of the response finishes, which may be after the client has
    // read the last byte: wait for the line (a missing line still fails after 2 s).
    for (let i = 0; i < 200 && lines.length === n; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    const added = lines.slice(n);
    assert.equal(added.length, 1, added.join('\n'));
    const m = /^http-boot: 127\.0\.0\.1 GET \/images\/ephemeral\/amd64\/initrd\.gz 200 (\d+) B \d+ ms$/.exec(added[0]!);
    assert.ok(m, added[0]);
    // Bytes on the wire: the body and its headers.
    assert.ok(Number(m[1]) > 50_000 && Number(m[1]) < 50_400, m[1]);
  });
});
