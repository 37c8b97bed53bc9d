import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Web UI sessions (/MAAS/r/): the cookie carries a random token, the table only its SHA-256, so a
 * read of the database does not yield a usable session. Logout deletes the row; each session has
 * its own CSRF token for the UI's forms.
 */
export class UiSessions1764500000000 implements MigrationInterface {
  name = 'UiSessions1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ui_sessions (
        token_hash bytea PRIMARY KEY,
        user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token text NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        expires timestamptz NOT NULL
      );
      CREATE INDEX ui_sessions_user_idx ON ui_sessions (user_id);
      CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ui_sessions`);
  }
}
