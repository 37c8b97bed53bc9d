// A tiny HTTP server standing in for the region in rack unit tests: the rack API's boot-config
// and power endpoints, and the metadata server. It records every request so tests can look at
// exactly what a fake machine sent over the wire.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BootConfig, MacBootConfig, PowerConfig } from '../../../src/contracts/rack-api';

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface StandIn {
  url: string;
  requests: Recorded[];
  boot: Map<string, BootConfig>;
  power: Map<string, PowerConfig>;
  /** Answer the next n requests whose path includes `fragment` with this status. */
  failNext(fragment: string, status: number, n?: number): void;
  /** Called after each recorded request (e.g. to switch the boot purpose after OK). */
  onRequest?: (r: Recorded) => void;
  posts(): Recorded[];
  /** The form fields of a recorded POST, form-encoded or multipart. */
  form(r: Recorded): Promise<FormData>;
  close(): Promise<void>;
}

export const SECRET = 'rack-secret';
export const CREDS = { consumerKey: 'ck123', tokenKey: 'tk456', tokenSecret: 'ts789' };

export async function startStandIn(): Promise<StandIn> {
  const requests: Recorded[] = [];
  const boot = new Map<string, BootConfig>();
  const power = new Map<string, PowerConfig>();
  const failures: Array<{ fragment: string; status: number; n: number }> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const failure = failures.find((f) => f.n > 0 && r.path.includes(f.fragment));
      if (failure) {
        failure.n--;
        res.writeHead(failure.status).end('stand-in failure');
        return;
      }
      requests.push(r);
      self.onRequest?.(r);
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const rack = /^\/MAAS\/rack\/v1\/machines\/([^/]+)\/(power|boot-config)$/.exec(r.path);
      if (rack) {
        if (req.headers.authorization !== `Bearer ${SECRET}`) return json(401, { error: 'bad secret' });
        const found = rack[2] === 'power' ? power.get(rack[1]!) : boot.get(rack[1]!);
        return found ? json(200, found) : res.writeHead(404).end(`No machine ${rack[1]}.`);
      }
      // What a PXE request from a MAC boots: the machine whose boot config lists it, else enlist.
      const byMac = /^\/MAAS\/rack\/v1\/racks\/[^/]+\/boot-config\/([^/]+)$/.exec(r.path);
      if (byMac) {
        if (req.headers.authorization !== `Bearer ${SECRET}`) return json(401, { error: 'bad secret' });
        const mac = decodeURIComponent(byMac[1]!).toLowerCase();
        const known = [...boot.values()].find((c) => c.macAddresses.some((m) => m.toLowerCase() === mac));
        const answer: MacBootConfig = known
          ? { known: true, ...known }
          : { known: false, purpose: 'enlist', mac, metadataUrl: `${url}/MAAS/metadata/` };
        return json(200, answer);
      }
      if (r.path.startsWith('/MAAS/metadata/2012-03-01/user-data')) return res.writeHead(200).end('#cloud-config\n');
      if (r.path === '/MAAS/metadata/2012-03-01/' && r.method === 'POST') return res.writeHead(200).end('OK');
      if (r.path.startsWith('/MAAS/rack/v1/')) return json(200, {});
      res.writeHead(404).end('not here');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const self: StandIn = {
    url,
    requests,
    boot,
    power,
    failNext: (fragment, status, n = 1) => failures.push({ fragment, status, n }),
    posts: () => requests.filter((r) => r.method === 'POST' && r.path.startsWith('/MAAS/metadata/')),
    form: (r) => new Response(r.body, { headers: { 'content-type': String(r.headers['content-type']) } }).formData(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return self;
}

export function bootConfig(standIn: StandIn, systemId: string, purpose: BootConfig['purpose']): BootConfig {
  return {
    systemId,
    hostname: `host-${systemId}`,
    purpose,
    macAddresses: ['52:54:00:12:34:56'],
    metadataUrl: `${standIn.url}/MAAS/metadata/`,
    credentials: CREDS,
  };
}

export function fakePower(systemId: string, parameters: Record<string, string> = {}): PowerConfig {
  return { systemId, powerType: 'fake', parameters: { fake_delay_ms: '10', ...parameters } };
}

/** Poll until `check` holds (tests of asynchronous fake machines). */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
