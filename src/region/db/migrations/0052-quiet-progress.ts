import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A machine's progress reports need not wake its workflow (issue 17): a workflow since
 * leaner-history says so when it claims the machine (quiet_progress), and reads when the machine
 * last reported (last_report_at) only when its deadline comes. Workflows from before it (false,
 * the default) are signalled every report, as before.
 */
export class QuietProgress1765290000000 implements MigrationInterface {
  name = 'QuietProgress1765290000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE machines ADD COLUMN quiet_progress boolean NOT NULL DEFAULT false, ADD COLUMN last_report_at timestamptz`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN quiet_progress, DROP COLUMN last_report_at`);
  }
}
