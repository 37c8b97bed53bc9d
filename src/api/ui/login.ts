// Login and logout. Credentials are checked by the user service (scrypt); a wrong username and a
// wrong password get the same 401. The login form carries a CSRF token double-submitted through a
// cookie (there is no session yet); a successful login starts a new session (never reuses one).
// Repeated failures for a username or from an address are throttled (login-throttle.ts).
import type Koa from 'koa';
import type { RegionServices, UiSession } from '../../region/services';
import { ensureParams } from '../http';
import { html } from './html';
import { LoginThrottle } from './login-throttle';
import { page, redirectAfterPost, sendPage, UI_PREFIX } from './layout';
import { clearCookie, LOGIN_CSRF_COOKIE, randomToken, sameToken, SESSION_COOKIE, setCookie } from './session';

export const LOGIN_PATH = `${UI_PREFIX}/login`;
const HOME = `${UI_PREFIX}/machines`;
const ORIGIN = 'http://region.invalid';

/** Only a path inside the UI: `next` never redirects anywhere else. */
export function safeNext(next: string | undefined): string {
  if (!next?.startsWith(`${UI_PREFIX}/`)) return HOME;
  const url = new URL(next, ORIGIN);
  return url.origin === ORIGIN && url.pathname.startsWith(`${UI_PREFIX}/`) && url.pathname !== LOGIN_PATH
    ? url.pathname + url.search
    : HOME;
}

export function redirectToLogin(ctx: Koa.Context): void {
  ctx.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(ctx.originalUrl)}`);
}

function showLogin(ctx: Koa.Context, status: number, o: { next: string; error?: string; username?: string }): void {
  const csrf = randomToken();
  setCookie(ctx, LOGIN_CSRF_COOKIE, csrf);
  sendPage(
    ctx,
    status,
    page(
      'Log in',
      html`${o.error ? html`<p class="error">${o.error}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="next" value="${o.next}">
<p><label>Username <input name="username" autocomplete="username" value="${o.username ?? ''}" required autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
</form>`,
    ),
  );
}

export function loginRoutes(services: RegionServices, throttle = new LoginThrottle()) {
  const sessions = services.uiSessions;
  return {
    async login(ctx: Koa.Context, session: UiSession | null): Promise<void> {
      const params = await ensureParams(ctx);
      const next = safeNext(params.get('next'));
      if (ctx.method !== 'POST') {
        if (session) return ctx.redirect(next);
        return showLogin(ctx, 200, { next });
      }
      const username = params.get('username') ?? '';
      if (!sameToken(params.fromBody('csrf'), ctx.cookies.get(LOGIN_CSRF_COOKIE))) {
        return showLogin(ctx, 403, {
          next,
          username,
          error: 'The login form expired or did not come from this site. Please log in again.',
        });
      }
      // The attempt counts as a failure before the (asynchronous) password check, so concurrent
      // guesses cannot all pass the limit. A success clears the username's failures and takes
      // back only its own count from the address: one known password does not reset a guesser.
      const userKey = `user:${username.toLowerCase()}`;
      const addressKey = `ip:${ctx.ip}`;
      const wait = throttle.reserve([userKey, addressKey]);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        return showLogin(ctx, 429, { next, username, error: `Too many failed logins; try again in ${wait} s.` });
      }
      const user = await services.users.checkPassword(username, params.get('password') ?? '');
      if (!user) return showLogin(ctx, 401, { next, username, error: 'Invalid username or password.' });
      throttle.succeeded([userKey]);
      throttle.refund([addressKey]);
      if (session) await sessions.end(session);
      setCookie(ctx, SESSION_COOKIE, await sessions.create(user.id));
      clearCookie(ctx, LOGIN_CSRF_COOKIE);
      redirectAfterPost(ctx, next);
    },

    /** The router has checked the session's CSRF token (as for every POST). */
    async logout(ctx: Koa.Context, session: UiSession): Promise<void> {
      await sessions.end(session);
      clearCookie(ctx, SESSION_COOKIE);
      redirectAfterPost(ctx, LOGIN_PATH);
    },
  };
}
