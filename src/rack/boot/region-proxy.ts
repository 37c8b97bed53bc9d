// Requests under /MAAS/ on the rack's HTTP boot port go to the region, as MAAS racks proxy to
// theirs: a booting machine reaches the metadata server and the enlistment API only through its
// rack (which requests: machine-routes.ts, checked by the caller). Method, headers and bodies are streamed both ways; nothing is buffered.
import http from 'node:http';
import https from 'node:https';

// RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  return out;
}

export interface RegionProxyOptions {
  /** The region as racks are given it: http://host:5240/MAAS or http://host:5240. */
  regionUrl: string;
  /** A region that neither answers nor fails within this long gets a 504 (default 60 s). */
  timeoutMs?: number;
}

export type ProxyHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<string>;

/** A handler for requests under /MAAS/; resolves with a note for the request log when done. */
export function regionProxy(o: RegionProxyOptions): ProxyHandler {
  const region = new URL(o.regionUrl);
  // The request path already starts with /MAAS/: forward it below the region's root.
  const rootPath = region.pathname.replace(/\/+$/, '').replace(/\/MAAS$/, '');
  const client = region.protocol === 'https:' ? https : http;
  const timeoutMs = o.timeoutMs ?? 60_000;

  return (req, res) =>
    new Promise<string>((resolve) => {
      let settled = false;
      const done = (note: string) => {
        if (settled) return;
        settled = true;
        resolve(note);
      };
      const fail = (status: number, why: string) => {
        if (!res.headersSent) {
          res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
          res.end(`metalflow rack: ${why}\n`);
        } else {
          res.destroy();
        }
        done(why);
      };

      const headers = endToEnd(req.headers);
      const peer = req.socket.remoteAddress ?? '';
      headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${String(headers['x-forwarded-for'])}, ${peer}` : peer;
      headers['x-forwarded-host'] = req.headers.host ?? '';
      headers['x-forwarded-proto'] = 'http';
      // Host stays as the machine sent it (the rack), so URLs the region builds lead back here.

      const upstream = client.request({
        protocol: region.protocol,
        hostname: region.hostname,
        port: region.port,
        method: req.method,
        path: `${rootPath}${req.url ?? '/'}`,
        headers,
        timeout: timeoutMs,
      });
      upstream.on('timeout', () =>
        upstream.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        const status = err.code === 'ETIMEDOUT' ? 504 : 502;
        fail(status, `the region at ${region.origin} is unreachable (${err.code ?? err.message}); try again later`);
      });
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
        answer.on('error', () => res.destroy());
        answer.on('end', () => done(''));
      });
      // The machine went away: stop talking to the region for it.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
        done(res.writableFinished ? '' : 'client went away');
      });
      req.pipe(upstream);
    });
}
