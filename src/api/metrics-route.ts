// GET /MAAS/metrics: the region's Prometheus metrics where MAAS's region serves them. Read-only
// and unauthenticated as in MAAS (Prometheus scrapes without MAAS credentials); scrapes share one
// GROUP BY over machines per 15 s (on the listings pool), the rest is in memory. Firewall the port
// if that is too much to show.
import type Koa from 'koa';
import type { Registry } from 'prom-client';
import { methodNotAllowed } from './http/errors';
import { markRoute } from './http/route-label';

export const METRICS_PATH = '/MAAS/metrics';

export function metricsRoute(registry: Registry): Koa.Middleware {
  return async function metrics(ctx, next) {
    if (ctx.path !== METRICS_PATH && ctx.path !== `${METRICS_PATH}/`) return next();
    markRoute(ctx, '', METRICS_PATH, {});
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw methodNotAllowed(ctx.method, ['GET']);
    ctx.status = 200;
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
}
