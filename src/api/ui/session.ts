// Web UI sessions: a random token in an HttpOnly, SameSite=Lax cookie; the region's ui-sessions
// service keeps only its SHA-256 with the user and the session's CSRF token. Logout deletes the
// session, so the cookie is worthless afterwards even if it was copied.
import crypto from 'node:crypto';
import type Koa from 'koa';
import { UI_SESSION_HOURS } from '../../region/services/ui-sessions';
import { UI_PREFIX } from './layout';

export const SESSION_COOKIE = 'metalflow_session';
/** Before login there is no session: the login form's CSRF token is double-submitted via this cookie. */
export const LOGIN_CSRF_COOKIE = 'metalflow_login_csrf';

export const randomToken = (): string => crypto.randomBytes(32).toString('base64url');
const sha256 = (value: string): Buffer => crypto.createHash('sha256').update(value).digest();

/** Constant-time comparison of two tokens (of any lengths). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return crypto.timingSafeEqual(sha256(a), sha256(b));
}

const cookieOptions = (ctx: Koa.Context, maxAge?: number) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  path: UI_PREFIX,
  secure: ctx.secure,
  overwrite: true,
  ...(maxAge === undefined ? {} : { maxAge }),
});

export function setCookie(ctx: Koa.Context, name: string, value: string): void {
  ctx.cookies.set(name, value, cookieOptions(ctx, name === SESSION_COOKIE ? UI_SESSION_HOURS * 3600_000 : undefined));
}

export function clearCookie(ctx: Koa.Context, name: string): void {
  ctx.cookies.set(name, '', { ...cookieOptions(ctx), expires: new Date(0) });
}
