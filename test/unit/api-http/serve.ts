// Test helper: a real Koa server on an ephemeral port (or on a Unix socket), closed by the caller.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

export interface Served {
  /** http://127.0.0.1:<port>; empty when serving on a socket. */
  url: string;
  close(): Promise<void>;
}

export async function serve(configure: (app: Koa) => void, o: { socketPath?: string } = {}): Promise<Served> {
  const app = new Koa();
  configure(app);
  const server = o.socketPath ? app.listen(o.socketPath) : app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: o.socketPath ? '' : `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
