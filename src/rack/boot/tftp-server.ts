// The rack's TFTP server: read-only, first-stage loaders (undionly.kpxe, ipxe.efi) from the boot
// root's tftp directory, plus the virtual boot.ipxe that sends iPXE on to HTTP. Wraps npm `tftp`
// (protocol, blksize/tsize/windowsize, rollover) and fixes what it leaves open: writes, the bind
// address, symlinks out of the root, and packets that would crash it (tftp-hardening.ts).
import type { Readable } from 'node:stream';
import * as tftp from 'tftp';
import type { ServerRequest, ServerResponse } from 'tftp';
import { TFTP_FILES } from '../../contracts/boot';
import { openInRoot } from './boot-root';
import { hardenTftpServer, hardenTftpTransfers } from './tftp-hardening';

export interface TftpServerOptions {
  /** The directory served (the boot root's tftp dir); nothing outside it is readable. */
  root: string;
  /** Default 0.0.0.0 (the library's own default is localhost, useless for PXE). */
  host?: string;
  /** Default 69. */
  port?: number;
  /** The first iPXE script for a client at this address (boot.ipxe is rendered, not stored). */
  bootScript: (client: { address: string }) => Promise<string>;
  /** Largest block size agreed to (clients ask; default 65464, as tftpd-hpa). */
  maxBlockSize?: number;
  /** Largest RFC 7440 window agreed to (default 16). */
  maxWindowSize?: number;
  log: (line: string) => void;
  /** Each transfer once it is over (the rack's metrics). */
  onTransfer?: (t: TftpTransfer) => void;
}

/** `stopped`: the client ended it (a PXE ROM asks for tsize, then aborts and asks again). */
export type TransferOutcome = 'success' | 'stopped' | 'failure';
export interface TftpTransfer {
  outcome: TransferOutcome;
  /** Bytes of the file offered (its size), for a transfer that completed; 0 otherwise. */
  bytes: number;
  seconds: number;
}

export interface RunningTftp {
  address: string;
  port: number;
  /** Called if the server's socket fails after it started. */
  onFailure(listener: (err: Error) => void): void;
  /** Stops accepting requests and aborts transfers in flight. */
  close(): Promise<void>;
}

/** Firmware asks for `/name`, `\name` (Windows-style servers taught some) or `name`. */
export function tftpPath(file: string): string {
  return file.replace(/\\/g, '/').replace(/^\/+/, '');
}

export async function startTftpServer(o: TftpServerOptions): Promise<RunningTftp> {
  hardenTftpTransfers(o.log);
  const active = new Set<ServerRequest>();
  const server = tftp.createServer(
    {
      host: o.host ?? '0.0.0.0',
      port: o.port ?? 69,
      root: o.root,
      denyPUT: true,
      blockSize: o.maxBlockSize ?? 65464,
      windowSize: o.maxWindowSize ?? 16,
    },
    (req, res) => {
      active.add(req);
      serve(o, req, res).then(
        () => undefined,
        (err: unknown) => {
          o.log(`tftp: ${req.stats.remoteAddress} ${req.file}: ${(err as Error).message}`);
          req.abort(tftp.EIO);
        },
      );
      req.on('close', () => active.delete(req));
    },
  );
  hardenTftpServer(server, o.log);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    server.listen();
  });
  const failures: Array<(err: Error) => void> = [];
  server.on('error', (err: Error) => {
    o.log(`tftp: server socket failed: ${err.message}`);
    for (const f of failures) f(err);
  });
  const bound = server._socket.address();

  return {
    address: bound.address,
    port: bound.port,
    onFailure: (listener) => failures.push(listener),
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of active) req.abort('Server shutting down');
        server.once('close', () => resolve());
        try {
          server.close();
        } catch {
          resolve(); // the socket had already failed and closed
        }
      }),
  };
}

async function serve(o: TftpServerOptions, req: ServerRequest, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const who = `${req.stats.remoteAddress}:${req.stats.remotePort}`;
  const name = tftpPath(req.file);
  // Set once the file is open; closing the request (abort, timeout, shutdown) releases it.
  const sending: { source?: Readable } = {};
  let over = false;
  let outcome = 'done';
  let size = 0;
  // Always listened to: a PXE ROM asks for tsize, then aborts and asks again, which the library
  // reports as an error on the request (unhandled, it would kill the process).
  req.on('error', (err: Error) => {
    outcome = /tsize|option/i.test(err.message) ? `stopped by the client (${err.message})` : `failed (${err.message})`;
  });
  req.on('abort', () => {
    if (outcome === 'done') outcome = 'aborted';
  });
  req.on('close', () => {
    over = true;
    sending.source?.destroy();
    // The library emits 'close' first, then 'abort' or 'error': log once those have said why.
    process.nextTick(() => {
      o.log(`tftp: ${who} RRQ ${req.file} ${outcome} ${Date.now() - started} ms`);
      const kind: TransferOutcome =
        outcome === 'done' ? 'success' : /^(stopped|aborted)/.test(outcome) ? 'stopped' : 'failure';
      o.onTransfer?.({ outcome: kind, bytes: kind === 'success' ? size : 0, seconds: (Date.now() - started) / 1000 });
    });
  });

  if (name === TFTP_FILES.bootScript) {
    const body = Buffer.from(await o.bootScript({ address: req.stats.remoteAddress }));
    if (over) return;
    size = body.length;
    res.setSize(body.length);
    res.end(body);
    return;
  }

  const file = await openInRoot(o.root, name);
  if (!file.ok) {
    outcome = `refused (${file.detail})`;
    req.abort(file.reason === 'not-found' ? tftp.ENOENT : tftp.EACCESS);
    return;
  }
  if (over) {
    await file.handle.close();
    return;
  }
  // setSize sends the OACK (with tsize) or starts the transfer: without it nothing moves.
  size = file.size;
  res.setSize(file.size);
  const source = (sending.source = file.handle.createReadStream({ autoClose: true }));
  source.on('error', (err) => {
    outcome = `read error (${err.message})`;
    req.abort(tftp.EIO);
  });
  source.pipe(res);
}
