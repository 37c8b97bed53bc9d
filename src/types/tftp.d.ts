// Types for npm `tftp` 0.1.2 (it ships none): only what metalflow uses. The server half is wrapped
// by src/rack/boot/tftp-server.ts; tests and the benchmark use the client.
declare module 'tftp' {
  import type { EventEmitter } from 'node:events';
  import type { Readable, Writable } from 'node:stream';
  import type { Socket } from 'node:dgram';

  export interface TransferStats {
    blockSize: number;
    windowSize: number;
    size: number | null;
    userExtensions: Record<string, string>;
    retries: number;
    timeout: number;
    localAddress: string;
    localPort: number;
    remoteAddress: string;
    remotePort: number;
  }

  /** The server's view of a request (a Readable that carries a PUT's data). */
  export interface ServerRequest extends Readable {
    method: 'GET' | 'PUT';
    /** path.normalize()d by the library; leading `..` already refused. */
    file: string;
    stats: TransferStats;
    /** Sends an ERROR packet; a message equal to one of the library's error strings keeps its code. */
    abort(message?: string): void;
  }

  /** The server's answer to a GET: `setSize(n)` first (it sends the OACK / starts), then write. */
  export interface ServerResponse extends Writable {
    setSize(size: number): void;
    setUserExtensions(extensions: Record<string, string>): void;
  }

  export interface ServerOptions {
    host?: string;
    port?: number;
    root?: string;
    denyGET?: boolean;
    denyPUT?: boolean;
    blockSize?: number;
    windowSize?: number;
    retries?: number;
    timeout?: number;
  }

  export interface Server extends EventEmitter {
    host: string;
    port: number;
    root: string;
    /** Private in the library: the socket that receives RRQ/WRQ (used by the hardening). */
    _socket: Socket;
    listen(): void;
    close(): void;
  }

  export interface ClientOptions {
    host?: string;
    port?: number;
    blockSize?: number;
    windowSize?: number;
    retries?: number;
    timeout?: number;
  }

  export interface GetStream extends Readable {
    abort(message?: string): void;
    on(event: 'stats', listener: (stats: TransferStats) => void): this;
    on(event: 'abort' | 'close' | 'end', listener: () => void): this;
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  export interface Client {
    createGetStream(
      remote: string,
      options?: { md5?: string; sha1?: string; userExtensions?: Record<string, string> },
    ): GetStream;
    createPutStream(remote: string, options: { size: number }): Writable;
  }

  export function createServer(
    options: ServerOptions,
    listener?: (req: ServerRequest, res: ServerResponse) => void,
  ): Server;
  export function createClient(options?: ClientOptions): Client;

  export const ENOENT: string;
  export const EACCESS: string;
  export const EBADOP: string;
  export const EIO: string;
  export const ENOPUT: string;
}

// The class every server-side transfer inherits from (src/rack/boot/tftp-hardening.ts patches it).
declare module 'tftp/lib/protocol/server/incoming-request' {
  import type { RemoteInfo, Socket } from 'node:dgram';

  interface Retransmitter {
    _timer: NodeJS.Timeout | null;
    start(resend: () => void): void;
    reset(): void;
  }
  interface IncomingRequest {
    _address: string;
    _port: number;
    _createRetransmitter(): Retransmitter;
    _oackSent: boolean;
    /** The sender's window (set once the transfer is ready): blocks from _start, waiting while _cb is set. */
    _window?: { _cb: (() => void) | null; _start: number } | null;
    _initSocket(socket: Socket, onMessage: (message: Buffer, rinfo: RemoteInfo) => void): void;
    abort(message?: string): void;
  }
  const IncomingRequest: { prototype: IncomingRequest };
  export = IncomingRequest;
}
