// Web UI sessions: a random token in an HttpOnly, SameSite=Lax cookie; the database keeps only its
// SHA-256 (ui_sessions, migration 0007) with the user and the session's CSRF token. Logout deletes
// the row, so the cookie is worthless afterwards even if it was copied.
import crypto from 'node:crypto';
import type Koa from 'koa';
import type { DataSource } from 'typeorm';
import { UserEntity, type User } from '../../region/db/entities';
import { UI_PREFIX } from './layout';

export const SESSION_COOKIE = 'metalflow_session';
/** Before login there is no session: the login form's CSRF token is double-submitted via this cookie. */
export const LOGIN_CSRF_COOKIE = 'metalflow_login_csrf';
const SESSION_HOURS = 12;

export interface UiSession {
  user: User;
  csrf: string;
  tokenHash: Buffer;
}

export const randomToken = (): string => crypto.randomBytes(32).toString('base64url');
const sha256 = (value: string): Buffer => crypto.createHash('sha256').update(value).digest();

/** Constant-time comparison of two tokens (of any lengths). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return crypto.timingSafeEqual(sha256(a), sha256(b));
}

export class UiSessions {
  constructor(private readonly db: DataSource) {}

  /** A new session for the user; returns the cookie's token (shown nowhere else). */
  async create(userId: number): Promise<string> {
    const token = randomToken();
    await this.db.query(`DELETE FROM ui_sessions WHERE expires < now()`);
    await this.db.query(
      `INSERT INTO ui_sessions (token_hash, user_id, csrf_token, expires) VALUES ($1, $2, $3, now() + make_interval(hours => $4))`,
      [sha256(token), userId, randomToken(), SESSION_HOURS],
    );
    return token;
  }

  async find(token: string | undefined): Promise<UiSession | null> {
    if (!token) return null;
    const tokenHash = sha256(token);
    const rows: Array<{ user_id: number; csrf_token: string }> = await this.db.query(
      `SELECT user_id, csrf_token FROM ui_sessions WHERE token_hash = $1 AND expires > now()`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return null;
    // Fresh from the table: a user made or unmade admin sees the change on the next page.
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: row.user_id });
    return user ? { user, csrf: row.csrf_token, tokenHash } : null;
  }

  async end(session: UiSession): Promise<void> {
    await this.db.query(`DELETE FROM ui_sessions WHERE token_hash = $1`, [session.tokenHash]);
  }
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
  ctx.cookies.set(name, value, cookieOptions(ctx, name === SESSION_COOKIE ? SESSION_HOURS * 3600_000 : undefined));
}

export function clearCookie(ctx: Koa.Context, name: string): void {
  ctx.cookies.set(name, '', { ...cookieOptions(ctx), expires: new Date(0) });
}
