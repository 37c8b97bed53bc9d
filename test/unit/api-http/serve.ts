// Test helper: a real Koa server on an ephemeral port, closed by the caller.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(configure: (app: Koa) => void): Promise<Served> {
  const app = new Koa();
  configure(app);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
