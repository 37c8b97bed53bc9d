import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What recognises a machine's report repeated by a retry (services/report-repeats.ts):
 * `events.claim_token`, the operation (machines.claim_token when it was recorded) the report
 * belongs to, since a new operation's first report may read like the last one's; and
 * `events.report_digest`, a digest of everything the report carried (files included), since two
 * reports with the same words may carry different contents.
 */
export class EventClaimToken1765120000000 implements MigrationInterface {
  name = 'EventClaimToken1765120000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events ADD COLUMN claim_token text, ADD COLUMN report_digest text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events DROP COLUMN IF EXISTS claim_token, DROP COLUMN IF EXISTS report_digest`);
  }
}
