// The region's DNS server end to end: BIND's named started by startDnsServer on zones generated
// from a real PostgreSQL, asked with `dig`. A machine's FQDN forward and reverse, MAAS's DNS
// resources of every type, answers following the database within seconds (LISTEN/NOTIFY), names
// outside metalflow forwarded to upstream_dns (a second named started here), NXDOMAIN in an
// authoritative domain, zones that named-checkzone accepts, and the same answers after a restart.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findBinary } from '../../src/region/dns-server/named-process';
import { startDnsServer, type RunningDnsServer } from '../../src/region/dns-server';
import type { RegionServices } from '../../src/region/services';
import { deployedMachineInput } from '../helpers/factories';
import { freshDatabase } from '../helpers/infra';
import { servicesWithoutTemporal } from '../helpers/resource-api';

const haveBind = Boolean(findBinary('named') && findBinary('dig'));
const log = (line: string) => process.env.DEBUG && console.error(line);

function freeUdpTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Answer {
  status: string;
  authoritative: boolean;
  records: Array<{ name: string; ttl: number; type: string; data: string }>;
}

/** One question to a server, its status, aa flag and answer section. */
function dig(port: number, name: string, type = 'A', reverse = false): Promise<Answer> {
  const args = ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', '+noall', '+comments', '+answer'];
  args.push(...(reverse ? ['-x', name] : [name, type]));
  return new Promise((resolve, reject) =>
    execFile('dig', args, (err, stdout) => {
      if (err) return reject(err);
      const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
      const flags = /flags: ([\w ]+);/.exec(stdout)?.[1] ?? '';
      const records = stdout
        .split('\n')
        .filter((l) => l && !l.startsWith(';'))
        .map((l) => {
          const [n = '', ttl = '', , t = '', ...data] = l.split(/\s+/);
          return { name: n, ttl: Number(ttl), type: t, data: data.join(' ') };
        });
      resolve({ status, authoritative: flags.split(' ').includes('aa'), records });
    }),
  );
}

/** Asks until the answer satisfies `ok` (the region republishes within a second; 15 s is the give-up). */
async function digUntil(port: number, name: string, type: string, ok: (a: Answer) => boolean, reverse = false) {
  let last: Answer | undefined;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    // dig fails while nothing answers yet (a named starting).
    last = await dig(port, name, type, reverse).catch(() => undefined);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${name} ${type}: never as expected; last answer ${JSON.stringify(last)}`);
}

const data = (a: Answer, type: string) =>
  a.records
    .filter((r) => r.type === type)
    .map((r) => r.data)
    .sort();

/** A tiny authoritative named for upstream.test: what upstream_dns points at. */
async function startUpstream(dir: string, port: number): Promise<ChildProcess> {
  fs.writeFileSync(
    path.join(dir, 'db.upstream.test'),
    `$TTL 60\n@ IN SOA ns.upstream.test. hostmaster.upstream.test. ( 1 600 1800 604800 60 )\n@ IN NS ns\nns IN A 127.0.0.1\nwww IN A 192.0.2.80\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'named.conf'),
    `options { directory "${dir}"; pid-file none; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; };\n` +
      `zone "upstream.test" { type primary; file "db.upstream.test"; };\n`,
  );
  const child = spawn(findBinary('named')!, ['-g', '-c', path.join(dir, 'named.conf')], { stdio: 'ignore' });
  await digUntil(port, 'www.upstream.test', 'A', (a) => a.status === 'NOERROR');
  return child;
}

describe('DNS server (named on the database)', { skip: !haveBind && 'BIND 9 / dig not installed' }, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let services: RegionServices;
  let dns: RunningDnsServer | undefined;
  let upstream: ChildProcess | undefined;
  let port: number;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-dns-'));
  const upstreamDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-dns-upstream-'));
  let machineInterface: number;
  const mac = `52:54:00:${crypto.randomBytes(3).toString('hex').match(/../g)!.join(':')}`;

  const start = async () =>
    (dns = await startDnsServer({
      db: database.db,
      databaseUrl: database.url,
      stateDir,
      listen: { host: '127.0.0.1', port },
      regionName: 'region-test',
      debounceMs: 50,
      upstreamPort: Number(fs.readFileSync(path.join(upstreamDir, 'port'), 'utf8')),
      log,
    }));

  before(async () => {
    database = await freshDatabase();
    services = servicesWithoutTemporal(database.db);
    const upstreamPort = await freeUdpTcpPort();
    fs.writeFileSync(path.join(upstreamDir, 'port'), String(upstreamPort));
    upstream = await startUpstream(upstreamDir, upstreamPort);
    await services.config.set('upstream_dns', '127.0.0.1');
    // The test's upstream zone is unsigned and has no delegation from the root: no validation.
    await services.config.set('dnssec_validation', 'no');
    await services.domains.create({ name: 'lab.example', ttl: 600 });
    await services.domains.create({ name: 'corp.example', authoritative: false });
    await database.db.query(
      `INSERT INTO subnets (name, cidr, vlan_id) SELECT '10.77.0.0/24', '10.77.0.0/24', id FROM vlans WHERE vid = 0 LIMIT 1`,
    );
    const m = await services.machines.create(
      deployedMachineInput('node1', null, { domain: 'lab.example', macAddresses: [mac] }),
    );
    [{ id: machineInterface }] = (await database.db.query(
      `SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [m.systemId],
    )) as [{ id: number }];
    port = await freeUdpTcpPort();
    await start();
  });

  after(async () => {
    await dns?.stop();
    upstream?.kill('SIGTERM');
    await database?.drop();
    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.rmSync(upstreamDir, { recursive: true, force: true });
  });

  it("a machine's FQDN resolves forward and reverse as its addresses are assigned and released", async () => {
    assert.equal((await dig(port, 'node1.lab.example')).status, 'NXDOMAIN');
    // Commissioning: the boot interface's current DHCP lease is where the machine answers.
    await database.db.query(
      `INSERT INTO dhcp_leases (ip, mac_address, expires) VALUES ('10.77.0.11', $1, now() + interval '1 hour')`,
      [mac],
    );
    const leased = await digUntil(port, 'node1.lab.example', 'A', (x) => data(x, 'A').length === 1);
    assert.deepEqual(data(leased, 'A'), ['10.77.0.11']);
    // Deploy: a static link (interface_links, migration 0018). The netboot lease no longer names
    // the machine (MAAS leaves discovered addresses out once a node has assigned ones).
    await database.db.query(
      `INSERT INTO interface_links (interface_id, mode, subnet_id, ip)
       SELECT $1, 'static', id, '10.77.0.10' FROM subnets WHERE cidr = '10.77.0.0/24'`,
      [machineInterface],
    );
    const a = await digUntil(port, 'node1.lab.example', 'A', (x) => data(x, 'A')[0] === '10.77.0.10');
    assert.deepEqual(data(a, 'A'), ['10.77.0.10']);
    assert.ok(a.authoritative);
    assert.deepEqual(
      a.records.map((r) => r.ttl),
      [600],
      "the domain's TTL",
    );
    const ptr = await digUntil(port, '10.77.0.10', 'PTR', (x) => x.status === 'NOERROR', true);
    assert.deepEqual(data(ptr, 'PTR'), ['node1.lab.example.']);
    await digUntil(port, '10.77.0.11', 'PTR', (x) => x.status === 'NXDOMAIN', true);
    // Release: the link goes; the old lease has expired (release does not delete leases), and an
    // expired lease may be another machine's address by now.
    await database.db.query(`UPDATE dhcp_leases SET expires = now() - interval '1 minute' WHERE mac_address = $1`, [
      mac,
    ]);
    await database.db.query(`DELETE FROM interface_links WHERE interface_id = $1`, [machineInterface]);
    await digUntil(port, 'node1.lab.example', 'A', (x) => x.status === 'NXDOMAIN');
    await digUntil(port, '10.77.0.10', 'PTR', (x) => x.status === 'NXDOMAIN', true);
  });

  it("MAAS's DNS resources answer A, AAAA, CNAME, TXT, MX and SRV with their TTLs", async () => {
    await services.dnsResources.create({
      fqdn: 'www.lab.example',
      ipAddresses: '10.77.0.20 2001:db8::20',
      addressTtl: 60,
    });
    await services.dnsRecords.create({ fqdn: 'alias.lab.example', rrtype: 'CNAME', rrdata: 'www' });
    await services.dnsRecords.create({
      fqdn: 'www.lab.example',
      rrtype: 'TXT',
      rrdata: 'v=spf1 -all; "quoted"',
      ttl: 120,
    });
    await services.dnsRecords.create({ fqdn: 'lab.example', rrtype: 'MX', rrdata: '10 www.lab.example.' });
    await services.dnsRecords.create({
      fqdn: '_http._tcp.lab.example',
      rrtype: 'SRV',
      rrdata: '0 5 80 www.lab.example.',
    });
    const a = await digUntil(port, 'www.lab.example', 'A', (x) => x.status === 'NOERROR');
    assert.deepEqual(a.records, [{ name: 'www.lab.example.', ttl: 60, type: 'A', data: '10.77.0.20' }]);
    assert.deepEqual(data(await dig(port, 'www.lab.example', 'AAAA'), 'AAAA'), ['2001:db8::20']);
    const cname = await dig(port, 'alias.lab.example', 'A');
    assert.deepEqual(data(cname, 'CNAME'), ['www.lab.example.']);
    assert.deepEqual(data(cname, 'A'), ['10.77.0.20']);
    const txt = await dig(port, 'www.lab.example', 'TXT');
    assert.deepEqual(txt.records, [
      { name: 'www.lab.example.', ttl: 120, type: 'TXT', data: '"v=spf1 -all; \\"quoted\\""' },
    ]);
    assert.deepEqual(data(await dig(port, 'lab.example', 'MX'), 'MX'), ['10 www.lab.example.']);
    assert.deepEqual(data(await dig(port, '_http._tcp.lab.example', 'SRV'), 'SRV'), ['0 5 80 www.lab.example.']);
    const ptr = await dig(port, '10.77.0.20', 'PTR', true);
    assert.deepEqual(data(ptr, 'PTR'), ['www.lab.example.']);
  });

  it('an unknown name in an authoritative domain is NXDOMAIN, answered with authority', async () => {
    const a = await dig(port, 'nobody.lab.example');
    assert.equal(a.status, 'NXDOMAIN');
    assert.ok(a.authoritative);
  });

  it('other names go to upstream_dns, non-authoritative domains too', async () => {
    const a = await digUntil(port, 'www.upstream.test', 'A', (x) => x.status === 'NOERROR');
    assert.deepEqual(data(a, 'A'), ['192.0.2.80']);
    assert.ok(!a.authoritative);
    const conf = fs.readFileSync(path.join(stateDir, 'dns', 'named.conf'), 'utf8');
    assert.match(
      conf,
      /zone "corp\.example" \{ type forward; forward only; forwarders \{ 127\.0\.0\.1 port \d+; \}; \};/,
    );
  });

  it('zones named-checkzone accepts; a restart serves the same answers with a newer serial', async () => {
    const zonesDir = path.join(stateDir, 'dns', 'zones');
    for (const file of fs.readdirSync(zonesDir).filter((f) => f.startsWith('db.')))
      execFileSync(findBinary('named-checkzone')!, ['-q', '-k', 'fail', file.slice(3), path.join(zonesDir, file)]);
    const serialOf = async () => Number((await dig(port, 'lab.example', 'SOA')).records[0]!.data.split(' ')[2]);
    const before = await serialOf();
    await dns!.stop();
    dns = undefined;
    // A change while the region is down is served after the restart.
    await services.dnsResources.create({ fqdn: 'later.lab.example', ipAddresses: '10.77.0.30' });
    await start();
    assert.deepEqual(data(await dig(port, 'www.lab.example'), 'A'), ['10.77.0.20']);
    assert.deepEqual(data(await dig(port, 'later.lab.example'), 'A'), ['10.77.0.30']);
    assert.ok((await serialOf()) > before);
  });
});
