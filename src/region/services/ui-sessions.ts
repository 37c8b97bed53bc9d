// Web UI sessions (ui_sessions, migration 0007): the database keeps only the SHA-256 of the
// cookie's random token, with the user and the session's CSRF token. Ending a session deletes the
// row, so the cookie is worthless afterwards even if it was copied. The cookie itself is the api's.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { UserEntity, type User } from '../db/entities';

export const UI_SESSION_HOURS = 12;

export interface UiSession {
  user: User;
  csrf: string;
  tokenHash: Buffer;
  /** The one-time message a POST left for the next page (migration 0040); read with the session. */
  flash?: UiFlash | null;
}

/** What a POST did, shown once by the page it redirects to. */
export interface UiFlash {
  kind: 'notice' | 'error';
  text: string;
  /** Lines under the text: a selection's per-machine errors. */
  details?: string[];
  /** A secret shown this once (a new API key): nowhere else on any page. */
  secret?: string;
}

const randomToken = (): string => crypto.randomBytes(32).toString('base64url');
const sha256 = (value: string): Buffer => crypto.createHash('sha256').update(value).digest();

export class UiSessionService {
  constructor(private readonly db: DataSource) {}

  /** A new session for the user; returns the cookie's token (shown nowhere else). */
  async create(userId: number): Promise<string> {
    const token = randomToken();
    await this.db.query(`DELETE FROM ui_sessions WHERE expires < now()`);
    await this.db.query(
      `INSERT INTO ui_sessions (token_hash, user_id, csrf_token, expires) VALUES ($1, $2, $3, now() + make_interval(hours => $4))`,
      [sha256(token), userId, randomToken(), UI_SESSION_HOURS],
    );
    return token;
  }

  async find(token: string | undefined): Promise<UiSession | null> {
    if (!token) return null;
    const tokenHash = sha256(token);
    const rows: Array<{ user_id: number; csrf_token: string; flash: UiFlash | null }> = await this.db.query(
      `SELECT user_id, csrf_token, flash FROM ui_sessions WHERE token_hash = $1 AND expires > now()`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return null;
    // Fresh from the table: a user made or unmade admin sees the change on the next page.
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: row.user_id });
    return user ? { user, csrf: row.csrf_token, tokenHash, flash: row.flash } : null;
  }

  /** Leaves a message for the next page (replacing any unread one). */
  async setFlash(session: UiSession, flash: UiFlash): Promise<void> {
    await this.db.query(`UPDATE ui_sessions SET flash = $2 WHERE token_hash = $1`, [
      session.tokenHash,
      JSON.stringify(flash),
    ]);
  }

  /** The page showing the message clears it, only if it is still the one read (not a newer one). */
  async clearFlash(session: UiSession): Promise<void> {
    if (!session.flash) return;
    await this.db.query(`UPDATE ui_sessions SET flash = NULL WHERE token_hash = $1 AND flash = $2::jsonb`, [
      session.tokenHash,
      JSON.stringify(session.flash),
    ]);
  }

  async end(session: UiSession): Promise<void> {
    await this.db.query(`DELETE FROM ui_sessions WHERE token_hash = $1`, [session.tokenHash]);
  }
}
