// The routing style of the region's non-MAAS HTTP surfaces (the rack API, the metadata server):
// a declared list of (method, path template, handler), matched by the same PathMatcher as the
// MAAS API's resources, with one guard (authentication) before any handler runs.
import type Koa from 'koa';
import type { ApiError } from './errors';
import { PathMatcher } from './path-match';
import { sendResult } from './reply';

export interface Route {
  method: 'GET' | 'POST';
  /** Relative to the table's prefix, with `{name}` placeholders. */
  path: string;
  /** Return a plain value for JSON 200, a Reply for anything else. */
  handle(ctx: Koa.Context, path: Record<string, string>): Promise<unknown>;
}

export interface RouteTableOptions {
  prefix: string;
  routes: readonly Route[];
  /** Runs before matching, e.g. to refuse unauthenticated callers; throws to refuse. */
  guard?: (ctx: Koa.Context) => void | Promise<void>;
  /** The error for a path under the prefix that no route declares. */
  unknown: (ctx: Koa.Context) => ApiError;
}

export function routeTable(o: RouteTableOptions): Koa.Middleware {
  const byTemplate = new Map<string, Route[]>();
  for (const route of o.routes) byTemplate.set(route.path, [...(byTemplate.get(route.path) ?? []), route]);
  const matcher = new PathMatcher([...byTemplate].map(([template, value]) => ({ template, value })));
  return async function routes(ctx, next) {
    if (ctx.path !== o.prefix && !ctx.path.startsWith(`${o.prefix}/`)) return next();
    await o.guard?.(ctx);
    const match = matcher.match(ctx.path.slice(o.prefix.length) || '/');
    if (!match || match.op !== undefined) throw o.unknown(ctx);
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    const route = match.value.find((r) => r.method === method);
    if (!route) throw o.unknown(ctx);
    sendResult(ctx, await route.handle(ctx, match.params));
  };
}

/**
 * A route template from a path function shared with the client (contracts' rackPaths):
 * `template(rackPaths.heartbeat, 'rack')` → '/racks/{rack}/heartbeat'.
 */
export function template<A extends string[]>(path: (...args: A) => string, ...names: A): string {
  return path(...(names.map((n) => `__param_${n}__`) as A)).replace(/__param_(\w+?)__/g, '{$1}');
}
