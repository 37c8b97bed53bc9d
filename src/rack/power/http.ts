// One HTTP(S) request to a BMC or webhook, for the redfish and webhook drivers. node:http(s)
// rather than fetch: BMCs use self-signed certificates, and `rejectUnauthorized: false` must
// apply to this one request only (never NODE_TLS_REJECT_UNAUTHORIZED, which is process-wide).
import http from 'node:http';
import https from 'node:https';
import { PowerError } from './driver';

export interface BmcRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** false: accept any certificate (MAAS's power_verify_ssl "n", its default). */
  verifyTls: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface BmcResponse {
  status: number;
  text: string;
  /** The Location header (a redirect's target, a created resource). */
  location?: string;
  /** Redfish's session token, answering a login. */
  authToken?: string;
}

export function bmcRequest(req: BmcRequest): Promise<BmcResponse> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(PowerError.fatal('Invalid URL (check the power parameters).'));
  }
  const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'metalflow', ...req.headers };
  if (body) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!lib) return Promise.reject(PowerError.fatal(`Unsupported URL scheme '${url.protocol}' (http or https).`));
  return new Promise((resolve, reject) => {
    const r = lib.request(
      url,
      { method: req.method, headers, timeout: req.timeoutMs, signal: req.signal, rejectUnauthorized: req.verifyTls },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const token = res.headers['x-auth-token'];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            location: res.headers.location,
            authToken: typeof token === 'string' ? token : undefined,
          });
        });
        res.on('error', (err) => reject(networkError(req, err)));
      },
    );
    r.on('timeout', () =>
      r.destroy(
        PowerError.retryable(`${req.method} ${url.origin}${url.pathname}: no answer within ${req.timeoutMs / 1000} s.`),
      ),
    );
    r.on('error', (err) => reject(req.signal.aborted ? (req.signal.reason as Error) : networkError(req, err)));
    r.end(body);
  });
}

/** TLS verification failures are settings (fatal); everything else on the wire may pass. */
function networkError(req: BmcRequest, err: Error): PowerError {
  if (err instanceof PowerError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const where = `${req.method} ${safeUrl(req.url)}`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code)) {
    return PowerError.fatal(
      `${where}: TLS certificate not trusted (${err.message}); set power_verify_ssl to n for a self-signed BMC.`,
      err,
    );
  }
  return PowerError.retryable(`${where}: ${err.message}`, err);
}

/** HTTP status → PowerError: credentials refused are fatal, a struggling server is not. */
export function httpFailure(what: string, res: BmcResponse, said: string): PowerError {
  const detail = said ? `: ${said}` : '';
  if (res.status === 401 || res.status === 403)
    return PowerError.fatal(`${what}: authentication failed (HTTP ${res.status})${detail}`);
  if (res.status >= 500 || res.status === 408 || res.status === 429)
    return PowerError.retryable(`${what}: HTTP ${res.status}${detail}`);
  return PowerError.fatal(`${what}: HTTP ${res.status}${detail}`);
}

/** URLs may carry a token in the query string or credentials: keep both out of messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}
