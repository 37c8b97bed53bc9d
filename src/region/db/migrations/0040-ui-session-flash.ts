import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The web UI's one-time message (issue 19): what a POST did (an action's result, the per-machine
 * errors of a selection, a new API key shown once) is kept with the session until the page the
 * POST redirects to shows it and clears it. In the session's row, so any region process serves
 * the redirect; a JSON object, NULL when there is none.
 */
export class UiSessionFlash1765100000000 implements MigrationInterface {
  name = 'UiSessionFlash1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ui_sessions ADD COLUMN flash jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ui_sessions DROP COLUMN IF EXISTS flash`);
  }
}
