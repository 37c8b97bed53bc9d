// A small real Redfish BMC in node:http: `systems` systems at /redfish/v1/Systems/<n> (On for odd
// n, Off for even), Basic auth (admin/password) below the service root, and optionally the
// SessionService (POST Sessions → X-Auth-Token + Location, DELETE to log out) that sushy-emulator
// lacks. It can listen on several ports (one BMC each: sessions are per port), which is how the
// power bench runs 500 BMCs in one process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RedfishPeer {
  /** One power_address per port, with scheme. */
  addresses: string[];
  /** Sessions opened and closed (DELETE) so far, over all ports. */
  logins: number;
  logouts: number;
  /** "METHOD /path auth", when started with record. */
  requests: string[];
  /** PATCH bodies by system path (the boot override the driver set). */
  patches: Array<{ path: string; body: unknown }>;
  /** Every answer waits this long (a slow BMC). */
  delayMs: number;
  /** Forget every session, as a BMC does when they time out or it restarts. */
  expireSessions(): void;
  stop(): Promise<void>;
}

const BASIC = `Basic ${Buffer.from('admin:password').toString('base64')}`;

export async function startRedfishPeer(
  o: { systems?: number; ports?: number; sessions?: boolean; record?: boolean } = {},
): Promise<RedfishPeer> {
  const systems = o.systems ?? 1;
  const withSessions = o.sessions ?? true;
  const servers: http.Server[] = [];
  // token → [port, session id]
  const tokens = new Map<string, [number, string]>();
  let next = 1;
  const peer: RedfishPeer = {
    addresses: [],
    logins: 0,
    logouts: 0,
    requests: [],
    patches: [],
    delayMs: 0,
    expireSessions: () => tokens.clear(),
    stop: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
    },
  };
  const handler =
    (port: number): http.RequestListener =>
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = req.url ?? '/';
        const token = typeof req.headers['x-auth-token'] === 'string' ? req.headers['x-auth-token'] : undefined;
        if (o.record)
          peer.requests.push(`${req.method} ${url} ${token ? 'token' : req.headers.authorization ? 'basic' : 'none'}`);
        const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) =>
          void res
            .writeHead(status, { 'Content-Type': 'application/json', ...headers })
            .end(body === undefined ? '' : JSON.stringify(body));
        const send: typeof reply = (...args) =>
          void (peer.delayMs ? setTimeout(() => !res.destroyed && reply(...args), peer.delayMs) : reply(...args));
        if (url === '/redfish/v1' || url === '/redfish/v1/') {
          return send(
            200,
            withSessions
              ? {
                  SessionService: { '@odata.id': '/redfish/v1/SessionService' },
                  Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
                }
              : {},
          );
        }
        if (withSessions && req.method === 'POST' && url === '/redfish/v1/SessionService/Sessions') {
          const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { UserName?: string; Password?: string };
          if (body.UserName !== 'admin' || body.Password !== 'password')
            return send(401, { error: { message: 'Invalid username or password' } });
          const id = String(next++);
          const t = `${id}-${Math.random().toString(36).slice(2)}`;
          tokens.set(t, [port, id]);
          peer.logins++;
          return send(
            201,
            { Id: id, UserName: 'admin' },
            { 'X-Auth-Token': t, Location: `/redfish/v1/SessionService/Sessions/${id}` },
          );
        }
        const session = token ? tokens.get(token) : undefined;
        if (!(session?.[0] === port || req.headers.authorization === BASIC))
          return send(401, { error: { message: 'Authentication required' } });
        const del = /^\/redfish\/v1\/SessionService\/Sessions\/(\w+)$/.exec(url);
        if (withSessions && req.method === 'DELETE' && del) {
          for (const [t, [p, id]] of tokens) if (p === port && id === del[1]) tokens.delete(t);
          peer.logouts++;
          return send(204);
        }
        const m = /^\/redfish\/v1\/Systems\/(\d+)$/.exec(url);
        if (req.method === 'GET' && m && Number(m[1]) < systems) {
          const boot = [...peer.patches].reverse().find((p) => p.path === url)?.body as { Boot?: unknown } | undefined;
          return send(200, {
            '@odata.id': url,
            Id: m[1],
            PowerState: Number(m[1]) % 2 ? 'On' : 'Off',
            Boot: boot?.Boot ?? { BootSourceOverrideEnabled: 'Disabled' },
            Actions: { '#ComputerSystem.Reset': { target: `${url}/Actions/ComputerSystem.Reset` } },
          });
        }
        if (req.method === 'PATCH' && m && Number(m[1]) < systems) {
          peer.patches.push({ path: url, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as unknown });
          return send(204);
        }
        if (req.method === 'GET' && url === '/redfish/v1/Systems') {
          return send(200, {
            Members: Array.from({ length: systems }, (_, i) => ({ '@odata.id': `/redfish/v1/Systems/${i}` })),
          });
        }
        send(404, { error: { message: `No resource ${url}` } });
      });
    };
  for (let i = 0; i < (o.ports ?? 1); i++) {
    const server = http.createServer({ keepAlive: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    server.on('request', handler(port));
    servers.push(server);
    peer.addresses.push(`http://127.0.0.1:${port}`);
  }
  return peer;
}
