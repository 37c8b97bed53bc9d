// The baseline of issue 17 item 4: the lab's VM netbooting the same ephemeral environment with no
// metalflow orchestration. dnsmasq answers DHCP on br0 (its iPXE client gets a boot script URL, as
// the rack's DHCP server gives it), a plain Node HTTP server hands out that one script — the rack's
// own per-MAC commissioning script text (ipxe-script.ts) pointing at this server — and the same
// kernel and initrd files, and takes the environment's op=signal POSTs as a sink answering 200. The
// VM is powered straight through chassis.sh, the BMC's own program: no region, no workflow, no
// rack. Timed with the same instruments as the orchestrated run (boot-watch.ts, the chassis log, a
// request log in the rack's words), so boot-phases.ts reads both alike.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { macScript } from '../../../src/rack/boot/ipxe-script';
import { bootPhases, type BootPhases } from './boot-phases';
import { watchBoot } from './boot-watch';

const execFileAsync = promisify(execFile);

export interface BareNetbootOptions {
  /** ipmi_sim's directory: chassis.sh, vm.env and the VM's files. */
  bmcDir: string;
  /** The boot root the rack served (images/ephemeral/<arch>/ under it). */
  bootRoot: string;
  /** The lab's bridge address and a free port on it (the rack's HTTP port once the rack is gone). */
  address: string;
  httpPort: number;
  /** Addresses dnsmasq hands out (the lab's /24). */
  dhcpRange: [string, string];
  timeoutMs: number;
}

export interface BareNetboot extends BootPhases {
  /** The op=signal statuses the sink received, in order. */
  signals: string[];
  dnsmasq: string;
}

/** An HTTP server logging each request as the rack's does (`http-boot: …`), in JSON lines. */
function startServer(o: BareNetbootOptions, lines: string[], signals: string[]): Promise<http.Server> {
  const base = `http://${o.address}:${o.httpPort}`;
  const script = macScript(
    {
      known: true,
      systemId: 'bare-netboot',
      hostname: 'bare-netboot',
      purpose: 'commissioning',
      macAddresses: [],
      metadataUrl: `${base}/MAAS/metadata`,
      credentials: { consumerKey: 'bare', tokenKey: 'bare', tokenSecret: 'bare' },
    },
    { base },
  );
  const files = path.join(o.bootRoot, 'images', 'ephemeral', 'amd64');
  const server = http.createServer((req, res) => {
    const started = Date.now();
    const url = req.url ?? '';
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const done = (status: number) =>
        lines.push(
          JSON.stringify({
            time: new Date().toISOString(),
            msg: `http-boot: ${req.socket.remoteAddress ?? '?'} ${req.method ?? '?'} ${url} ${status} ${req.socket.bytesWritten} B ${Date.now() - started} ms`,
          }),
        );
      res.on('finish', () => done(res.statusCode));
      if (req.method === 'GET' && url.endsWith('.ipxe')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(script);
      } else if (req.method === 'GET' && /^\/images\/ephemeral\/amd64\/(vmlinuz|initrd\.gz)$/.test(url)) {
        const file = path.join(files, path.basename(url));
        res.writeHead(200, { 'content-length': fs.statSync(file).size });
        fs.createReadStream(file).pipe(res);
      } else if (req.method === 'POST' && url.startsWith('/MAAS/metadata/')) {
        signals.push(/name="status"\r\n\r\n(\w+)/.exec(Buffer.concat(body).toString('latin1'))?.[1] ?? '?');
        res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.httpPort, o.address, () => resolve(server));
  });
}

/** dnsmasq as a DHCP server only, iPXE clients pointed at the script; resolves once it serves. */
function startDnsmasq(o: BareNetbootOptions, work: string, out: string[]): Promise<ChildProcess> {
  const child = spawn(
    'dnsmasq',
    [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--port=0',
      '--interface=br0',
      '--bind-interfaces',
      '--dhcp-authoritative',
      // No ping before an offer: the rack's server does not probe either.
      '--no-ping',
      `--dhcp-range=${o.dhcpRange[0]},${o.dhcpRange[1]},255.255.255.0,1h`,
      '--dhcp-userclass=set:ipxe,iPXE',
      `--dhcp-boot=tag:ipxe,http://${o.address}:${o.httpPort}/ipxe/boot.ipxe`,
      `--dhcp-leasefile=${path.join(work, 'leases')}`,
      `--pid-file=${path.join(work, 'dnsmasq.pid')}`,
      '--log-dhcp',
      '--log-facility=-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    const seen = (c: Buffer) => {
      out.push(c.toString());
      if (/DHCP, IP range/.test(out.join(''))) resolve(child);
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`dnsmasq exited ${code}: ${out.join('')}`)));
  });
}

/** One bare netboot of the lab's VM (which must be off and its rack's DHCP server gone). */
export async function bareNetboot(o: BareNetbootOptions): Promise<BareNetboot> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bare-netboot-'));
  const lines: string[] = [];
  const signals: string[] = [];
  const dnsmasqOut: string[] = [];
  const server = await startServer(o, lines, signals);
  let dnsmasq: ChildProcess | undefined;
  const watch = watchBoot(o.bmcDir);
  try {
    dnsmasq = await startDnsmasq(o, work, dnsmasqOut);
    const chassis = path.join(o.bmcDir, 'chassis.sh');
    const startMs = Date.now();
    await execFileAsync(chassis, ['0x20', 'set', 'boot', 'pxe']);
    await execFileAsync(chassis, ['0x20', 'set', 'power', '1']);
    const deadline = Date.now() + o.timeoutMs;
    while (watch.vmGoneMs === undefined) {
      if (Date.now() > deadline)
        throw new Error(`the bare netboot did not end in ${o.timeoutMs} ms:\n${watch.console().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const phases = bootPhases({
      startMs,
      chassisLog: fs.readFileSync(path.join(o.bmcDir, 'chassis.log'), 'utf8'),
      httpLog: lines.join('\n'),
      serial: watch.serial,
      vmGoneMs: watch.vmGoneMs,
      doneMs: watch.vmGoneMs,
    });
    return { ...phases, signals, dnsmasq: dnsmasqOut.join('').slice(-2000) };
  } finally {
    watch.stop();
    dnsmasq?.kill('SIGTERM');
    server.closeAllConnections();
    server.close();
    await execFileAsync(path.join(o.bmcDir, 'chassis.sh'), ['0x20', 'set', 'power', '0']).catch(() => undefined);
  }
}
