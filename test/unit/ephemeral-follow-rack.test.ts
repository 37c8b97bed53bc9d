// images/ephemeral/follow-rack.sh with the ephemeral environment's own retry (images/ephemeral/init)
// under busybox sh and its HTTP client: when the rack the environment booted from stops answering,
// it asks DHCP again and goes on through the server that leased it an address (issue 18 item 1).
// The "dead rack" is an address nobody listens on (127.0.0.1:PORT), the secondary a real HTTP
// server on 127.0.0.2 with the same port; udhcpc is a shell function standing in for the DHCP
// exchange (the QEMU lab, test/e2e/rack-failover.test.ts, runs the real one).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');
const INIT = path.join(ROOT, 'images/ephemeral/init');
const FOLLOW = path.join(ROOT, 'images/ephemeral/follow-rack.sh');
const LIBRARY = path.join(ROOT, 'src/api/run-scripts/maas-run-scripts.sh');

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

/** A server on HOST answering every request with STATUS, recording what it got. */
async function server(host: string, port: number, status: number): Promise<{ seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok\n');
    });
  });
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, host, resolve));
  return { seen, close: () => new Promise<void>((r) => s.close(() => r())) };
}

/** A port free on 127.0.0.2 (so 127.0.0.1 with it is, as far as this host goes, a dead rack). */
async function freePortOn(host: string): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Runs SCRIPT in busybox sh with the environment's library, follow-rack.sh and init's retry loaded,
 * URLs naming the rack at 127.0.0.1:PORT, and a udhcpc that gets no answer SILENT times, then a
 * lease from SERVER.
 */
function shell(o: { port: number; silent: number; server: string; followSeconds?: number; script: string }) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-follow-rack-'));
  const retryFn = /^retry\(\) \{\n[\s\S]*?\n\}\n/m.exec(fs.readFileSync(INIT, 'utf8'));
  assert.ok(retryFn, "init's retry function");
  fs.writeFileSync(path.join(work, 'body'), 'op=signal\n');
  const harness = `
WORK=${work}
log() { echo "log: $*"; }
die() { echo "die: $*"; exit 1; }
udhcpc() {
  n=$(cat "$WORK/dhcp-tries" 2>/dev/null || echo 0)
  n=$((n + 1)); echo $n >"$WORK/dhcp-tries"
  [ $n -gt ${o.silent} ] || { echo "udhcpc: no lease, failing"; return 1; }
  echo "udhcpc: bound ${o.server}/8 router=none server=${o.server}"
}
MAAS_RUN_SCRIPTS_LIB=1 . ${LIBRARY}
set +u
. ${FOLLOW}
HTTP=busybox-wget
${retryFn[0]}
IFACE=eth0
METADATA=http://127.0.0.1:${o.port}/MAAS/metadata
API=http://127.0.0.1:${o.port}/MAAS
IMAGE=http://127.0.0.1:${o.port}/images/os/custom/x/amd64/disk.img.gz
${o.script}
echo "METADATA=$METADATA API=$API IMAGE=$IMAGE dhcp-tries=$(cat "$WORK/dhcp-tries" 2>/dev/null || echo 0)"
`;
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    // No proxy: the requests go to loopback addresses.
    const child = spawn('/bin/busybox', ['sh', '-c', harness], {
      env: { PATH: process.env.PATH, RACK_FOLLOW_SECONDS: String(o.followSeconds ?? 20) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      fs.rmSync(work, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

describe('ephemeral environment: following the rack (follow-rack.sh, init retry)', () => {
  let port: number;
  let secondary: Awaited<ReturnType<typeof server>>;
  before(async () => {
    port = await freePortOn('127.0.0.2');
    secondary = await server('127.0.0.2', port, 200);
  });
  after(() => secondary.close());

  it('a signal the dead rack does not answer goes through the rack DHCP names, every word of the request intact', async () => {
    secondary.seen.length = 0;
    const r = await shell({
      port,
      silent: 1,
      server: '127.0.0.2',
      script: `retry 3 "signal OK" http_request POST "$METADATA/2012-03-01/" 'OAuth oauth_token="t k"' "$WORK/body" text/plain; echo "rc=$?"`,
    });
    assert.match(r.out, /rc=0/, r.out);
    assert.match(r.out, /the rack at 127\.0\.0\.1 does not answer/, r.out);
    assert.match(r.out, /continuing through the rack at 127\.0\.0\.2/, r.out);
    assert.deepEqual(secondary.seen, [
      {
        method: 'POST',
        url: '/MAAS/metadata/2012-03-01/',
        authorization: 'OAuth oauth_token="t k"',
        body: 'op=signal\n',
      },
    ]);
    // Every URL that named the dead rack names the new one, port and path kept.
    assert.match(
      r.out,
      new RegExp(
        `METADATA=http://127\\.0\\.0\\.2:${port}/MAAS/metadata API=http://127\\.0\\.0\\.2:${port}/MAAS IMAGE=http://127\\.0\\.0\\.2:${port}/images/os/custom/x/amd64/disk\\.img\\.gz dhcp-tries=2`,
      ),
      r.out,
    );
  });

  it('with no DHCP answer the wait is bounded and the request fails as before, the URLs unchanged', async () => {
    const r = await shell({
      port,
      silent: 1_000_000,
      server: '127.0.0.2',
      followSeconds: 1,
      script: `retry 3 "signal OK" http_request GET "$METADATA/2012-03-01/"; echo "rc=$?"`,
    });
    assert.match(r.out, /rc=1/, r.out);
    assert.match(r.out, /no DHCP answer within 1s/, r.out);
    assert.match(r.out, /signal OK failed after 3 attempts/, r.out);
    assert.match(r.out, new RegExp(`METADATA=http://127\\.0\\.0\\.1:${port}/MAAS/metadata `), r.out);
  });

  it('follows at most three times in one boot', async () => {
    // The "secondary" is the dead address too: every follow leads nowhere new.
    const r = await shell({
      port,
      silent: 0,
      server: '127.0.0.1',
      script: `retry 3 "signal OK" http_request GET "$METADATA/2012-03-01/"; echo "rc=$?"`,
    });
    assert.match(r.out, /rc=1/, r.out);
    assert.match(r.out, /not following the rack again \(already moved 3 times\)/, r.out);
    assert.match(r.out, /dhcp-tries=3$/m, r.out);
  });

  it('image_source_lost: a rack that answers at all (even 404) means the stream failed for another reason', async () => {
    const answering = await freePortOn('127.0.0.1');
    const rack = await server('127.0.0.1', answering, 404);
    try {
      const r = await shell({
        port: answering,
        silent: 0,
        server: '127.0.0.2',
        script: `image_source_lost; echo "rc=$?"`,
      });
      assert.match(r.out, /rc=1/, r.out);
      assert.match(r.out, /dhcp-tries=0/, r.out);
      assert.equal(rack.seen.length, 1);
    } finally {
      await rack.close();
    }
  });

  it('image_source_lost: a rack that does not answer is followed, and the image URL moves', async () => {
    const r = await shell({ port, silent: 0, server: '127.0.0.2', script: `image_source_lost; echo "rc=$?"` });
    assert.match(r.out, /rc=0/, r.out);
    assert.match(
      r.out,
      new RegExp(`IMAGE=http://127\\.0\\.0\\.2:${port}/images/os/custom/x/amd64/disk\\.img\\.gz`),
      r.out,
    );
  });
  it("first_lease: the boot NIC's first DHCP keeps asking while no rack answers (a rack failing over)", async () => {
    const r = await shell({ port, silent: 3, server: '127.0.0.2', script: `first_lease eth0 20; echo "rc=$?"` });
    assert.match(r.out, /rc=0/, r.out);
    assert.match(r.out, /dhcp-tries=4$/m, r.out);
    assert.equal((r.out.match(/no DHCP answer on eth0 yet/g) ?? []).length, 3, r.out);
  });

  it('first_lease with no wait is one DHCP run, as for each of several candidate NICs', async () => {
    const r = await shell({ port, silent: 5, server: '127.0.0.2', script: `first_lease eth0 0; echo "rc=$?"` });
    assert.match(r.out, /rc=1/, r.out);
    assert.match(r.out, /dhcp-tries=1$/m, r.out);
  });
});
