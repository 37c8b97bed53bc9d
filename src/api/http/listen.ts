// The region's HTTP server: where it listens, and how long an idle keep-alive connection stays open.
import type http from 'node:http';
import type Koa from 'koa';

/**
 * Listen, keeping idle keep-alive connections open `keepAliveMs` (config.ts httpKeepAliveMs: longer
 * than the proxies in front of a region keep theirs).
 */
export async function listenApi(
  app: Koa,
  o: { port: number; host: string; keepAliveMs: number },
): Promise<http.Server> {
  const server: http.Server = app.listen(o.port, o.host);
  // Node's headersTimeout (60 s) bounds each request's headers from their first byte, not the idle
  // wait before them, so it needs no change for this.
  server.keepAliveTimeout = o.keepAliveMs;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}
