// An AbortSignal that fires when the HTTP client goes away before its response is complete, so
// work done only for that response (a database query) can stop instead of running to the end.
import type Koa from 'koa';

const signals = new WeakMap<Koa.Context, AbortSignal>();

/** One signal per request; it aborts when the connection closes before the response finished. */
export function requestSignal(ctx: Koa.Context): AbortSignal {
  const known = signals.get(ctx);
  if (known) return known;
  const controller = new AbortController();
  const { res } = ctx;
  // `close` also follows a complete response; only a close before the last byte is an abort.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error('The client closed the connection.'));
  };
  if (res.closed || res.destroyed) onClose();
  else res.once('close', onClose);
  signals.set(ctx, controller.signal);
  return controller.signal;
}
