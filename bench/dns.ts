// dns (issue 14 item 5): Debian's dnsperf against the region's named (started by the region
// process, zones from the database: 1,000 DNS resources with addresses, their reverse zones), then
// against the same named binary serving a static copy of those zone files alone (the server's own
// ceiling), with the same query mix. Meanwhile, the MAAS API's latency (users/?op=whoami): idle, and
// during the flood on metalflow's named — does a DNS flood slow the API?
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findBinary } from '../src/region/dns-server/named-process';
import { startStack, type Stack } from '../test/helpers/stack';
import { timedCall } from './lib/client';
import { connect } from './lib/seed';
import { ms, round, summarize } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const RESOURCES = 1_000;
const SECONDS = 10;
/** dnsperf's outstanding queries: enough to keep named busy on a small machine. */
const CLIENTS = 20;
const API_SAMPLES = 100;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );

interface Perf {
  queries_per_second: number;
  completed: number;
  lost: number;
  avg_latency_ms: number;
  rcodes: string;
}

async function dnsperf(port: number, queryFile: string): Promise<Perf> {
  const out = await run('dnsperf', [
    ...['-s', '127.0.0.1', '-p', String(port), '-d', queryFile],
    ...['-l', String(SECONDS), '-c', '1', '-q', String(CLIENTS)],
  ]);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    queries_per_second: round(num(/Queries per second:\s+([\d.]+)/), 0),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    avg_latency_ms: round(num(/Average Latency \(s\):\s+([\d.]+)/) * 1000, 3),
    rcodes: (/Response codes:\s+(.*)/.exec(out)?.[1] ?? '').trim(),
  };
}

const digShort = (port: number, name: string) =>
  run('dig', ['@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=2', name]).catch(() => '');

export async function dns(log: Log): Promise<BenchOutcome> {
  if (!findBinary('named') || !findBinary('dnsperf'))
    throw new Error('bench dns needs bind9 and dnsperf (apt-get install bind9 dnsperf)');
  const port = await freePort();
  const stack = await startStack({ roles: ['api'], env: { METALFLOW_DNS_LISTEN: `127.0.0.1:${port}` } });
  try {
    return await measure(stack, port, log);
  } finally {
    await stack.stop();
  }
}

async function measure(stack: Stack, port: number, log: Log): Promise<BenchOutcome> {
  const violations: string[] = [];
  const db = await connect(stack.dbUrl);
  const t = process.hrtime.bigint();
  try {
    await db.query(`INSERT INTO domains (name, ttl) VALUES ('bench.example', 300)`);
    await db.query(
      `INSERT INTO subnets (name, cidr, vlan_id) SELECT '10.99.0.0/22', '10.99.0.0/22', id FROM vlans WHERE vid = 0 LIMIT 1`,
    );
    await db.query(
      `WITH r AS (
         INSERT INTO dns_resources (name, domain_id)
         SELECT 'host-' || g, (SELECT id FROM domains WHERE name = 'bench.example') FROM generate_series(1, $1) g
         RETURNING id, name)
       INSERT INTO dns_resource_addresses (resource_id, ip)
       SELECT id, '10.99.0.0'::inet + substr(name, 6)::int FROM r`,
      [RESOURCES],
    );
  } finally {
    await db.end();
  }
  // The region republishes after the inserts' notifications: wait for the last name to answer.
  const last = `host-${RESOURCES}.bench.example`;
  for (let i = 0; i < 300 && !(await digShort(port, last)).trim(); i++) await new Promise((r) => setTimeout(r, 100));
  const publishMs = ms(t);
  if (!(await digShort(port, last)).trim()) violations.push(`${last} never resolved`);
  log(`dns: ${RESOURCES} resources published in ${round(publishMs, 0)} ms`);

  // The query mix: forward A (70%), reverse PTR (20%), NXDOMAIN in the authoritative domain (10%).
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bench-dns-'));
  const queries: string[] = [];
  for (let i = 1; i <= RESOURCES; i++) {
    queries.push(`host-${i}.bench.example A`);
    if (i % 10 < 2) {
      const ip = 0x0a630000 + i;
      queries.push(`${ip & 255}.${(ip >> 8) & 255}.99.10.in-addr.arpa PTR`);
    }
    if (i % 10 === 0) queries.push(`missing-${i}.bench.example A`);
  }
  const queryFile = path.join(work, 'queries.txt');
  fs.writeFileSync(queryFile, `${queries.join('\n')}\n`);

  try {
    // The API alone, then the API while dnsperf floods metalflow's named.
    const whoami = `${stack.apiUrl}/users/?op=whoami`;
    for (let i = 0; i < 5; i++) await timedCall(whoami, 'GET', stack.adminKey);
    const idle: number[] = [];
    for (let i = 0; i < API_SAMPLES; i++) idle.push((await timedCall(whoami, 'GET', stack.adminKey)).ms);
    let flooding = true;
    const flood = dnsperf(port, queryFile).finally(() => (flooding = false));
    const during: number[] = [];
    await new Promise((r) => setTimeout(r, 500));
    while (flooding) {
      const r = await timedCall(whoami, 'GET', stack.adminKey);
      if (r.status !== 200) violations.push(`whoami answered HTTP ${r.status} during the flood`);
      during.push(r.ms);
      await new Promise((res) => setTimeout(res, SECONDS * 10));
    }
    const metalflow = await flood;
    log(`dns: metalflow's named ${metalflow.queries_per_second} q/s (${metalflow.rcodes})`);

    // The same named binary on a static copy of the zones: no region, no reloads.
    const staticDir = path.join(work, 'static');
    fs.cpSync(path.join(stack.env.METALFLOW_STATE_DIR!, 'dns', 'zones'), path.join(staticDir, 'zones'), {
      recursive: true,
    });
    const staticPort = await freePort();
    const zones = fs.readdirSync(path.join(staticDir, 'zones')).filter((f) => f.startsWith('db.'));
    fs.writeFileSync(
      path.join(staticDir, 'named.conf'),
      `options { directory "${staticDir}"; pid-file none; listen-on port ${staticPort} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; };\n` +
        zones.map((f) => `zone "${f.slice(3)}" { type primary; file "zones/${f}"; };`).join('\n'),
    );
    const named = spawn(findBinary('named')!, ['-g', '-c', path.join(staticDir, 'named.conf')], { stdio: 'ignore' });
    let alone: Perf;
    try {
      for (let i = 0; i < 100 && !(await digShort(staticPort, last)).trim(); i++)
        await new Promise((r) => setTimeout(r, 100));
      alone = await dnsperf(staticPort, queryFile);
    } finally {
      named.kill('SIGTERM');
    }
    log(`dns: named alone ${alone.queries_per_second} q/s (${alone.rcodes})`);
    for (const [who, p] of [
      ['metalflow', metalflow],
      ['alone', alone],
    ] as const)
      if (p.lost > p.completed / 100) violations.push(`${who}: ${p.lost} queries lost of ${p.completed}`);

    const idleSummary = summarize(idle);
    const duringSummary = summarize(during);
    return {
      name: 'dns',
      ok: violations.length === 0,
      result: {
        benchmark: 'dns',
        resources: RESOURCES,
        publish_ms: round(publishMs, 0),
        query_mix: `${queries.length} queries: A of every resource, PTR of 20%, NXDOMAIN for 10%`,
        dnsperf: `-l ${SECONDS} -c 1 -q ${CLIENTS} (no rate limit: the server's maximum)`,
        metalflow_named: metalflow,
        named_alone_static_zones: alone,
        api_whoami_idle_ms: idleSummary,
        api_whoami_during_dns_flood_ms: duringSummary,
        violations,
      },
      summary: [
        `dnsperf: metalflow's named ${metalflow.queries_per_second} q/s (avg ${metalflow.avg_latency_ms} ms), the same named alone on static zones ${alone.queries_per_second} q/s (avg ${alone.avg_latency_ms} ms)`,
        `API whoami: idle p50 ${idleSummary.p50} ms p99 ${idleSummary.p99} ms; during the DNS flood p50 ${duringSummary.p50} ms p99 ${duringSummary.p99} ms`,
        `${RESOURCES} resources published (insert → answered) in ${round(publishMs, 0)} ms`,
      ],
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
