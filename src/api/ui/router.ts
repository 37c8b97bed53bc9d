// The web UI at /MAAS/r/ (MAAS's UI path): server-rendered pages, no client JS. Every page but the
// login needs a session (else 302 to the login); every POST needs the session's CSRF token.
// Failures become HTML pages; a machine the user may not see is the same 404 as one that does not
// exist, because both come from the same query service as the API.
import type Koa from 'koa';
import { NotFoundError } from '../../region/errors';
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { ApiError, type BodyLimits, ensureParams, hasAnyControl } from '../http';
import type { PresentOptions } from '../presenters/machine';
import { messagePage, sendPage, UI_PREFIX, type PageUser } from './layout';
import { LOGIN_PATH, loginRoutes, redirectToLogin } from './login';
import { machinePages } from './machine-pages';
import { sameToken, SESSION_COOKIE } from './session';

const NOT_FOUND = 'No machine or page matches the given query.';
/** The UI's forms (login, logout) are a few short fields; anyone may post the login form. */
const UI_BODY_LIMITS: BodyLimits = { fieldsBytes: 64 * 1024, filesBytes: 0, parts: 20, partBytes: 64 * 1024 };

function securityHeaders(ctx: Koa.Context): void {
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}

/** The decoded segment, or null (a 404) when it is malformed or holds a control character. */
function pathSegment(raw: string): string | null {
  try {
    const segment = decodeURIComponent(raw);
    return hasAnyControl(segment) ? null : segment;
  } catch {
    return null;
  }
}

export function uiRouter(services: RegionServices, o: PresentOptions): Koa.Middleware {
  const sessions = services.uiSessions;
  const auth = loginRoutes(services);
  const machines = machinePages(services, o);

  return async function ui(ctx, next) {
    if (ctx.path !== UI_PREFIX && !ctx.path.startsWith(`${UI_PREFIX}/`)) return next();
    securityHeaders(ctx);
    const session = await sessions.find(ctx.cookies.get(SESSION_COOKIE));
    const user: PageUser | undefined = session
      ? { username: session.user.username, isAdmin: session.user.isSuperuser, csrf: session.csrf }
      : undefined;
    try {
      // Read first, with the UI's limits: later ensureParams calls (login.ts) get these Params.
      if (ctx.method === 'POST') await ensureParams(ctx, UI_BODY_LIMITS);
      if (ctx.path === LOGIN_PATH) return await auth.login(ctx, session);
      if (!session || !user) return redirectToLogin(ctx);
      const caller: Principal = { kind: 'user', user: session.user };
      const rest = ctx.path.slice(UI_PREFIX.length).replace(/\/+$/, '');
      if (ctx.method === 'POST') {
        const params = await ensureParams(ctx);
        // From the form body only: a token in a URL leaks through logs, history and Referer.
        if (!sameToken(params.fromBody('csrf'), session.csrf)) {
          return sendPage(
            ctx,
            403,
            messagePage(
              'Forbidden',
              'This form expired or did not come from this site. Reload the page and try again.',
              user,
            ),
          );
        }
        if (rest === '/logout') return await auth.logout(ctx, session);
        return sendPage(ctx, 404, messagePage('Not found', NOT_FOUND, user));
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.set('Allow', 'GET, HEAD, POST');
        return sendPage(ctx, 405, messagePage('Method not allowed', `${ctx.method} is not allowed here.`, user));
      }
      if (rest === '') return ctx.redirect(`${UI_PREFIX}/machines`);
      if (rest === '/machines') return await machines.list(ctx, caller, user);
      const match = /^\/machine\/([^/]+)$/.exec(rest);
      const systemId = match ? pathSegment(match[1]!) : null;
      if (systemId !== null) return await machines.detail(ctx, caller, user, systemId);
      return sendPage(ctx, 404, messagePage('Not found', NOT_FOUND, user));
    } catch (err) {
      if (err instanceof NotFoundError) return sendPage(ctx, 404, messagePage('Not found', NOT_FOUND, user));
      if (err instanceof ApiError && err.status < 500)
        return sendPage(ctx, err.status, messagePage('Request refused', err.message, user));
      throw err;
    }
  };
}
