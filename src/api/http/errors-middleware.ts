// The one error boundary: every failure leaves as a MAAS-shaped response. ApiErrors carry their
// own status and body; the app maps its domain errors through `map`; anything else is a bug,
// logged in full and answered with a bare 500 so no stack trace or internal detail leaks.
import type Koa from 'koa';
import { ApiError } from './errors';
import { sendApiError, sendText } from './reply';

export interface ErrorBoundaryOptions {
  /** Turn a domain error into an ApiError (e.g. InvalidTransitionError → 409); undefined = not mine. */
  map?: (err: unknown) => ApiError | undefined;
  /** Called for unexpected errors (500). Default: console.error. */
  log?: (err: unknown, ctx: Koa.Context) => void;
}

export function errorBoundary(options: ErrorBoundaryOptions = {}): Koa.Middleware {
  const log = options.log ?? ((err, ctx) => console.error(`${ctx.method} ${ctx.path} failed:`, err));
  return async function errorBoundaryMiddleware(ctx, next) {
    try {
      await next();
    } catch (err) {
      const apiError = err instanceof ApiError ? err : (options.map?.(err) ?? fromHttpError(err));
      if (!apiError || apiError.status >= 500) log(err, ctx);
      if (ctx.headerSent) return; // a streamed response already started: nothing more can be said
      if (apiError) sendApiError(ctx, apiError);
      else sendText(ctx, 500, 'Internal server error');
    }
  };
}

/** Koa-style client errors (ctx.throw(404), http-errors with expose) keep their status and message. */
function fromHttpError(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500 || expose !== true) return undefined;
  return new ApiError(status, typeof message === 'string' ? message : 'Bad request');
}
