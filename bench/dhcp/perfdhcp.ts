// Running perfdhcp (Debian kea-admin) from the client namespace and reading its report.
import { execFile } from 'node:child_process';

export interface PerfdhcpRun {
  /** Exchanges started per second (-r). */
  rate: number;
  /** Completed 4-way exchanges per second, as perfdhcp reports them. */
  doraPerSecond: number;
  discoversSent: number;
  offers: number;
  requestsSent: number;
  acks: number;
  /** DORAs that did not complete: 1 - ACKs / DISCOVERs, in percent. */
  dropPercent: number;
  offerDelayMs: number;
  ackDelayMs: number;
  rejectedLeases: number;
}

export interface PerfdhcpOptions {
  namespace: string;
  iface: string;
  rate: number;
  seconds: number;
  clients: number;
}

export function runPerfdhcp(o: PerfdhcpOptions): Promise<PerfdhcpRun> {
  const args = [
    'netns',
    'exec',
    o.namespace,
    'perfdhcp',
    '-4',
    '-l',
    o.iface,
    '-r',
    String(o.rate),
    '-p',
    String(o.seconds),
    '-R',
    String(o.clients),
    // Wait 300 ms after the last DISCOVER for the answers still in flight.
    '-W',
    '300000',
    'all',
  ];
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: (o.seconds + 15) * 1000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      // perfdhcp exits 3 when packets were dropped: a measurement, not a failure.
      if (err && !/Statistics for: DISCOVER-OFFER/.test(stdout))
        return reject(new Error(`perfdhcp failed: ${err.message}\n${stderr}`));
      try {
        resolve(parseReport(stdout, o.rate));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** Three exchanges at 10/s, repeated until all complete: the server under test is up and answering. */
export async function waitForDora(namespace: string, iface: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) =>
      execFile(
        'ip',
        ['netns', 'exec', namespace, 'perfdhcp', '-4', '-l', iface, '-r', '10', '-n', '3', '-W', '500000', 'all'],
        { timeout: 5_000 },
        (err) => resolve(!err),
      ),
    );
    if (ok) return;
    if (Date.now() > until) throw new Error(`no DHCP server answered in namespace ${namespace} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function parseReport(text: string, rate: number): PerfdhcpRun {
  const section = (name: string) => {
    const at = text.indexOf(`Statistics for: ${name}`);
    if (at === -1) throw new Error(`perfdhcp report without ${name}:\n${text.slice(0, 2000)}`);
    const next = text.indexOf('Statistics for:', at + 1);
    return text.slice(at, next === -1 ? undefined : next);
  };
  const num = (s: string, label: string) => {
    const m = new RegExp(`${label}:\\s*([\\d.]+)`).exec(s);
    return m ? Number(m[1]) : 0;
  };
  const doSec = section('DISCOVER-OFFER');
  const raSec = text.includes('Statistics for: REQUEST-ACK') ? section('REQUEST-ACK') : '';
  const discoversSent = num(doSec, 'sent packets');
  const acks = num(raSec, 'received packets');
  return {
    rate,
    doraPerSecond: num(text, 'Rate'),
    discoversSent,
    offers: num(doSec, 'received packets'),
    requestsSent: num(raSec, 'sent packets'),
    acks,
    dropPercent: discoversSent ? Number((100 * (1 - acks / discoversSent)).toFixed(3)) : 100,
    offerDelayMs: num(doSec, 'avg delay'),
    ackDelayMs: num(raSec, 'avg delay'),
    rejectedLeases: num(doSec, 'rejected leases') + num(raSec, 'rejected leases'),
  };
}
