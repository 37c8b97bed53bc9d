// What a request was, in bounded words: the route template it matched (never the raw URL, whose
// ids would give every machine its own metric series), the MAAS op, and the machine it names.
// Set by the routers once they match; read by the request metrics and the error log.
import type Koa from 'koa';

export interface RouteLabel {
  /** The prefix and template, e.g. '/MAAS/api/2.0/machines/{system_id}/'. */
  path: string;
  /** The MAAS op the request was dispatched to, '' for none. */
  op: string;
  /** The machine named by the path, where there is one. */
  systemId?: string;
}

const labels = new WeakMap<Koa.Context, RouteLabel>();

export function markRoute(ctx: Koa.Context, prefix: string, template: string, params: Record<string, string>): void {
  labels.set(ctx, { path: prefix + template, op: '', systemId: params.system_id });
}

export function markOp(ctx: Koa.Context, op: string | undefined): void {
  const label = labels.get(ctx);
  if (label) label.op = op ?? '';
}

/** Unmatched requests share one label value: a scan of random paths adds no series. */
export function routeOf(ctx: Koa.Context): RouteLabel {
  return labels.get(ctx) ?? { path: 'unmatched', op: '' };
}
