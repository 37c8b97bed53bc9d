import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `events.claim_token`: the operation (machines.claim_token when it was recorded) a machine's own
 * report belongs to. A report repeated by a retry is recognised only within its operation
 * (services/report-repeats.ts): a new operation's first report may read like the last one's.
 */
export class EventClaimToken1765120000000 implements MigrationInterface {
  name = 'EventClaimToken1765120000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events ADD COLUMN claim_token text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events DROP COLUMN IF EXISTS claim_token`);
  }
}
