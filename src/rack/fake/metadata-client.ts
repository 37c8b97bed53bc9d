// What a FAKE machine says to the region's metadata server, over real HTTP, authenticated with
// its own OAuth PLAINTEXT token from the boot config (as on MAAS's kernel command line).
import crypto from 'node:crypto';
import type { BootConfig, MachineCredentials } from '../../contracts/rack-api';
import type { MachineSignalStatus } from '../../contracts/workflows';
import { withRetry } from '../backoff';

export const METADATA_VERSION = '2012-03-01';

/** A metadata request failed; `retryable` for 5xx and network trouble (a restarting region). */
export class MetadataError extends Error {
  override name = 'MetadataError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** MAAS's PLAINTEXT OAuth 1.0 header: signature = "&" + token secret (empty consumer secret). */
export function plaintextAuthorization(creds: MachineCredentials, now = Date.now()): string {
  const fields: Array<[string, string]> = [
    ['oauth_version', '1.0'],
    ['oauth_signature_method', 'PLAINTEXT'],
    ['oauth_consumer_key', creds.consumerKey],
    ['oauth_token', creds.tokenKey],
    ['oauth_signature', `&${creds.tokenSecret}`],
    ['oauth_nonce', crypto.randomUUID()],
    ['oauth_timestamp', String(Math.floor(now / 1000))],
  ];
  return `OAuth ${fields.map(([k, v]) => `${k}="${v}"`).join(', ')}`;
}

export interface SignalFile {
  name: string;
  content: string;
  contentType?: string;
}

export interface MetadataClientOptions {
  /** Powering the machine off aborts every request at once. */
  signal: AbortSignal;
  /** How long to keep retrying one request while the region is down (about 2 minutes). */
  maxElapsedMs?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export class MetadataClient {
  private readonly base: string;
  private readonly root: string;
  private readonly credentials: MachineCredentials;

  constructor(
    boot: BootConfig,
    private readonly o: MetadataClientOptions,
  ) {
    // The region sends credentials only while the machine's status is a netboot phase.
    if (!boot.credentials) throw new MetadataError(`no credentials in the ${boot.purpose} boot config`, false);
    this.credentials = boot.credentials;
    this.root = boot.metadataUrl.replace(/\/+$/, '');
    this.base = `${this.root}/${METADATA_VERSION}`;
  }

  /** `op=signal`: form-encoded, or multipart when result files go with it (as MAAS's scripts do). */
  async signal(status: MachineSignalStatus, extra: { error?: string; files?: SignalFile[] } = {}): Promise<void> {
    const fields: Record<string, string> = { op: 'signal', status, ...(extra.error ? { error: extra.error } : {}) };
    await this.send('POST', '/', () => {
      if (!extra.files?.length) return new URLSearchParams(fields);
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      for (const f of extra.files)
        form.append(f.name, new Blob([f.content], { type: f.contentType ?? 'application/octet-stream' }), f.name);
      return form;
    });
  }

  /** The installed OS fetching its user-data: how MAAS learns a deployment finished. */
  userData(): Promise<string> {
    return this.send('GET', '/user-data', () => undefined);
  }

  /**
   * cloud-init's webhook reporter on the installed OS: modules-final's finish, the event MAAS (and
   * the region) takes as the end of a deployment. POSTed as JSON to metadata/status/<system_id>.
   */
  async cloudInitFinished(systemId: string): Promise<void> {
    const event = {
      origin: 'cloudinit',
      timestamp: Date.now() / 1000,
      event_type: 'finish',
      name: 'modules-final',
      description: 'running modules for final',
      result: 'SUCCESS',
    };
    await this.send('POST', `${this.root}/status/${encodeURIComponent(systemId)}`, () => JSON.stringify(event), true);
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    body: () => URLSearchParams | FormData | string | undefined,
    absolute = false,
  ): Promise<string> {
    const url = absolute ? path : `${this.base}${path}`;
    return withRetry(
      async () => {
        const timeout = AbortSignal.timeout(this.o.timeoutMs ?? 15_000);
        let res: Response;
        try {
          // A fresh body and nonce for every attempt: bodies are single-use streams.
          res = await fetch(url, {
            method,
            headers: { authorization: plaintextAuthorization(this.credentials) },
            body: body(),
            signal: AbortSignal.any([this.o.signal, timeout]),
          });
        } catch (err) {
          if (this.o.signal.aborted) throw err;
          throw new MetadataError(`${method} ${url}: ${timeout.aborted ? 'no answer' : (err as Error).message}`, true);
        }
        const text = await res.text().catch(() => '');
        if (!res.ok) {
          throw new MetadataError(
            `${method} ${url} answered ${res.status}: ${text.trim().slice(0, 300)}`,
            res.status >= 500 || res.status === 429,
          );
        }
        return text;
      },
      {
        maxElapsedMs: this.o.maxElapsedMs ?? 120_000,
        isRetryable: (err) => err instanceof MetadataError && err.retryable,
        signal: this.o.signal,
        onRetry: (err, attempt, delay) => this.o.log?.(`${(err as Error).message}; retry ${attempt} in ${delay} ms`),
      },
    );
  }
}
