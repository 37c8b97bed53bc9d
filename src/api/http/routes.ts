// The routing style of the region's non-MAAS HTTP surfaces (the rack API, the metadata server, the
// web UI): a declared list of (method, path template, handler), matched by the same PathMatcher as
// the MAAS API's resources, with one guard (authentication) before any handler runs.
import type Koa from 'koa';
import type { ApiError } from './errors';
import { PathMatcher } from './path-match';
import { markRoute } from './route-label';
import { sendResult } from './reply';

/** Returned by a guard or handler that has written the response itself (the UI's pages and redirects). */
export const ANSWERED = Symbol('answered');

export interface Route {
  /** `*`: any method the path's other routes do not declare (HEAD is GET). */
  method: 'GET' | 'POST' | '*';
  /** Relative to the table's prefix, with `{name}` placeholders. */
  path: string;
  /** Return a plain value for JSON 200, a Reply for anything else, ANSWERED if it responded itself. */
  handle(ctx: Koa.Context, path: Record<string, string>): Promise<unknown>;
}

export interface RouteTableOptions {
  prefix: string;
  routes: readonly Route[];
  /**
   * Runs before matching, e.g. to refuse unauthenticated callers: throws to refuse, or returns
   * ANSWERED once it has responded itself (e.g. a redirect to a login page).
   */
  guard?: (ctx: Koa.Context) => void | typeof ANSWERED | Promise<void | typeof ANSWERED>;
  /** The error for a path under the prefix that no route declares. */
  unknown: (ctx: Koa.Context) => ApiError;
}

export function routeTable(o: RouteTableOptions): Koa.Middleware {
  const byTemplate = new Map<string, Route[]>();
  for (const route of o.routes) byTemplate.set(route.path, [...(byTemplate.get(route.path) ?? []), route]);
  const matcher = new PathMatcher([...byTemplate].map(([template, value]) => ({ template, value })));
  return async function routes(ctx, next) {
    if (ctx.path !== o.prefix && !ctx.path.startsWith(`${o.prefix}/`)) return next();
    if ((await o.guard?.(ctx)) === ANSWERED) return;
    const match = matcher.match(ctx.path.slice(o.prefix.length) || '/');
    if (!match || match.op !== undefined) throw o.unknown(ctx);
    markRoute(ctx, o.prefix, match.template, match.params);
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    const route = match.value.find((r) => r.method === method) ?? match.value.find((r) => r.method === '*');
    if (!route) throw o.unknown(ctx);
    const result = await route.handle(ctx, match.params);
    if (result !== ANSWERED) sendResult(ctx, result);
  };
}

/**
 * A route template from a path function shared with the client (contracts' rackPaths):
 * `template(rackPaths.heartbeat, 'rack')` → '/racks/{rack}/heartbeat'.
 */
export function template<A extends string[]>(path: (...args: A) => string, ...names: A): string {
  return path(...(names.map((n) => `__param_${n}__`) as A)).replace(/__param_(\w+?)__/g, '{$1}');
}
