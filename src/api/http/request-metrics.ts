// Every request's latency by method, route template, status and op (MAAS's
// maas_http_request_latency), observed when the response is over, so a streamed listing counts
// until its last byte rather than until its handler returned.
import type Koa from 'koa';
import type { Histogram } from 'prom-client';
import { routeOf } from './route-label';

export function requestMetrics(latency: Histogram<'method' | 'path' | 'status' | 'op'>): Koa.Middleware {
  return async function measured(ctx, next) {
    const started = process.hrtime.bigint();
    ctx.res.once('close', () => {
      const { path, op } = routeOf(ctx);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      latency.observe({ method: ctx.method, path, status: String(ctx.status), op }, seconds);
    });
    await next();
  };
}
