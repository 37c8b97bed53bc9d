import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A machine's progress reports need not wake its workflow (issue 17): a workflow since
 * leaner-history says so when it claims the machine (quiet), and reads how long ago the machine
 * last reported (last_report_at) only when its deadline comes. Workflows from before it (no row,
 * or quiet false) are signalled every report, as before. A table of its own, not columns of
 * `machines`: every statement on `machines` wakes the DNS publisher (0021), and a report is not a
 * DNS change.
 */
export class QuietProgress1765290000000 implements MigrationInterface {
  name = 'QuietProgress1765290000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE machine_progress (
         machine_id integer PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
         quiet boolean NOT NULL DEFAULT false,
         last_report_at timestamptz
       )`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE machine_progress`);
  }
}
