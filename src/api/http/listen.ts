// The region's HTTP server: where it listens, how long an idle keep-alive connection stays open,
// and how it stops.
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

/**
 * Stop listening and end the connections: the idle ones at once, each busy one as soon as its
 * reply is written (Node's close only ends those idle at that moment; a busy one would otherwise
 * stay open its whole keep-alive time after its reply, and hold up the stop).
 */
export function closeApi(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
  });
}
