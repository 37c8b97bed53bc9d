// The rack's HTTP boot server (MAAS's rack port 5248): iPXE scripts, files from the boot root,
// and the /MAAS/ proxy to the region (for what machines use: machine-routes.ts). One line of log per request.
import http from 'node:http';
import { BOOT_HTTP, TFTP_FILES } from '../../contracts/boot';
import type { Log } from '../../contracts/log';
import { bootLayout } from './boot-root';
import { credentialGate, type LeasedAddresses } from './credential-gate';
import { bootScript, httpBase, macScript } from './ipxe-script';
import { macConfig, type MacConfigDeps } from './mac-config';
import { macFromHyphens } from './mac';
import { machineMayReach } from './machine-routes';
import { regionProxy } from './region-proxy';
import { serveFile } from './static-files';

export interface HttpBootOptions extends MacConfigDeps {
  bootRoot: string;
  regionUrl: string;
  /** Ephemeral environment architecture (default amd64). */
  arch?: string;
  /** Timeout for proxied region requests (default 60 s). */
  proxyTimeoutMs?: number;
  /** This rack's DHCP leases: scripts with credentials go only to the leased address (credential-gate.ts). */
  leasedAddresses?: LeasedAddresses;
  log: Log;
  /** Each request once answered (the rack's metrics). */
  onTransfer?: (t: HttpBootTransfer) => void;
}

/** What was asked: an iPXE script, a file of the boot root, or the region through the proxy. */
export type HttpBootKind = 'script' | 'file' | 'proxy';
export interface HttpBootTransfer {
  kind: HttpBootKind;
  /** `failure`: a 4xx/5xx answer or a request that failed before its answer was complete. */
  outcome: 'success' | 'failure';
  /** Bytes written on the connection for this request, headers included. */
  bytes: number;
}

const MAC_SCRIPT = /^\/ipxe\/mac\/([^/]+)\.ipxe$/;
// UEFI HTTP boot and curious operators fetch the loaders by their bare names.
const FIRMWARE = new Set<string>([TFTP_FILES.uefiIpxe, TFTP_FILES.biosIpxe]);

type Reply = { status: number; body: string; type?: string };
/** What the log line says besides the request; the machine when the script was for a known one. */
type Outcome = { note: string; systemId?: string };
const text = (status: number, body: string): Reply => ({
  status,
  body: `${body}\n`,
  type: 'text/plain; charset=utf-8',
});

/** Creates (does not start) the server; `listen` it on RACK_HTTP_PORT or wherever configured. */
export function createHttpBootServer(o: HttpBootOptions): http.Server {
  const { root, tftpDir } = bootLayout(o.bootRoot);
  const proxy = regionProxy({ regionUrl: o.regionUrl, timeoutMs: o.proxyTimeoutMs });

  // The machine asked this address: the scripts send it back to the same one.
  const baseOf = (req: http.IncomingMessage) =>
    httpBase(req.socket.localAddress ?? '127.0.0.1', req.socket.localPort ?? 0);

  const script = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): Promise<Reply & { note?: string; systemId?: string }> => {
    if (pathname === BOOT_HTTP.bootScript)
      return { status: 200, body: bootScript(baseOf(req)), type: 'text/plain; charset=utf-8' };
    const mac = macFromHyphens(MAC_SCRIPT.exec(pathname)?.[1] ?? '');
    if (!mac) return text(400, `Not a MAC address in ${pathname}: expected /ipxe/mac/aa-bb-cc-dd-ee-ff.ipxe`);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const answer = await macConfig(o, mac, gone.signal);
    if (!answer.ok) return { ...text(answer.status, answer.message), note: answer.message };
    if (answer.config.known && answer.config.credentials) {
      const gate = credentialGate(o.leasedAddresses, mac, req.socket.remoteAddress ?? '');
      if (!gate.ok) return { ...text(403, gate.message), note: gate.message };
    }
    const body = macScript(answer.config, { base: baseOf(req), arch: o.arch });
    return {
      status: 200,
      body,
      type: 'text/plain; charset=utf-8',
      note: `${answer.config.purpose} from ${answer.source}`,
      ...(answer.config.known ? { systemId: answer.config.systemId } : {}),
    };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<Outcome | string> => {
    const url = req.url ?? '/';
    if (url.startsWith(BOOT_HTTP.regionProxyPrefix)) {
      // Machines need the metadata server, enlistment and the run-scripts; the rest of the region
      // (UI, user API, the racks' API) is not published on the boot network.
      if (!machineMayReach({ method: req.method ?? '', url, authorized: Boolean(req.headers.authorization) })) {
        res
          .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
          .end('Not found: a rack forwards to the region only what booting machines use.\n');
        return 'not for machines';
      }
      return proxy(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('Only GET and HEAD here (and anything under /MAAS/).\n');
      return '';
    }
    // The raw path, decoded here and nowhere else: WHATWG URL parsing would quietly resolve
    // `..` and `%2e%2e`, hiding a traversal attempt instead of refusing it.
    const rawPath = url.split('?')[0] ?? '/';
    let pathname: string;
    try {
      pathname = decodeURIComponent(rawPath);
    } catch {
      res
        .writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Malformed percent-encoding in the path.\n');
      return '';
    }
    if (pathname.startsWith('/ipxe/')) {
      const reply = await script(req, res, pathname);
      if (!res.writableEnded && !res.destroyed) {
        res.writeHead(reply.status, {
          'content-type': reply.type ?? 'text/plain',
          'content-length': Buffer.byteLength(reply.body),
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : reply.body);
      }
      return { note: reply.note ?? '', systemId: reply.systemId };
    }
    const name = pathname.slice(1);
    if (FIRMWARE.has(name)) return serveFile(req, res, tftpDir, name);
    return serveFile(req, res, root, pathname);
  };

  return http.createServer((req, res) => {
    const started = Date.now();
    // Read now: a closed connection no longer knows its peer.
    const { socket } = req;
    const peer = socket.remoteAddress ?? '?';
    const written = socket.bytesWritten;
    const url = req.url ?? '';
    const kind: HttpBootKind = url.startsWith(BOOT_HTTP.regionProxyPrefix)
      ? 'proxy'
      : url.startsWith('/ipxe/')
        ? 'script'
        : 'file';
    const line = (status: number, outcome: Outcome | string) => {
      const { note, systemId } = typeof outcome === 'string' ? { note: outcome, systemId: undefined } : outcome;
      const bytes = socket.bytesWritten - written;
      o.log(
        `http-boot: ${peer} ${req.method ?? '?'} ${url} ${status} ${bytes} B ${Date.now() - started} ms${note ? ` (${note})` : ''}`,
        { system_id: systemId },
      );
      o.onTransfer?.({ kind, outcome: status < 400 && res.writableFinished ? 'success' : 'failure', bytes });
    };
    handle(req, res).then(
      (outcome) => line(res.statusCode, outcome),
      (err: unknown) => {
        // A bug or an odd region answer (e.g. an unsafe value): this request fails, the server lives.
        const message = (err as Error).message;
        if (!res.headersSent)
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metalflow rack: ${message}\n`);
        else res.destroy();
        line(500, message);
      },
    );
  });
}
