// The region's HTTP server: where it listens, how long an idle keep-alive connection stays open,
// and how it stops.
import type http from 'node:http';
import type Koa from 'koa';

export interface ApiServer {
  server: http.Server;
  /**
   * Stop listening and end every connection, none cut short: an idle one at once (Node's close),
   * one whose request is under way once its reply has gone out. Those replies, and any request
   * still coming on a kept connection, say `Connection: close`, so the client (a proxy in front)
   * sends nothing more on it; without this a busy connection would stay open its whole keep-alive
   * time after its reply and hold up the stop.
   */
  close(): Promise<void>;
}

/**
 * Listen, keeping idle keep-alive connections open `keepAliveMs` (config.ts httpKeepAliveMs: longer
 * than the proxies in front of a region keep theirs).
 */
export async function listenApi(app: Koa, o: { port: number; host: string; keepAliveMs: number }): Promise<ApiServer> {
  const server: http.Server = app.listen(o.port, o.host);
  // Node's headersTimeout (60 s) bounds each request's headers from their first byte, not the idle
  // wait before them, so it needs no change for this.
  server.keepAliveTimeout = o.keepAliveMs;
  const underWay = new Set<http.ServerResponse>();
  let stopping = false;
  // After Koa's own listener, which writes its reply later (after its middleware's promise).
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (stopping) return lastReplyOn(res);
    underWay.add(res);
    res.once('close', () => underWay.delete(res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        underWay.forEach(lastReplyOn);
        server.close(() => resolve());
      }),
  };
}

/** This reply is its connection's last: Node ends the connection once the reply has gone out. */
function lastReplyOn(res: http.ServerResponse): void {
  if (!res.headersSent) {
    res.setHeader('Connection', 'close');
    return;
  }
  // Its headers went out saying keep-alive: end the connection once the reply is written (ending
  // a socket sends what it still buffers first).
  // (Node detaches the socket from the reply as it finishes: held here.)
  const socket = res.socket;
  if (res.writableFinished) socket?.end();
  else res.once('finish', () => socket?.end());
}
