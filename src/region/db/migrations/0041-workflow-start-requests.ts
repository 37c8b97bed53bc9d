import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the request behind a recorded start asked for (its effective parameters in MAAS's names,
 * services/workflow-starts.ts): a repeated request completes the start only if it asks the same,
 * else it is refused naming the difference, never silently run with the first request's options.
 * NULL for rows recorded before this column (their repeat completes them as before).
 */
export class WorkflowStartRequests1765110000000 implements MigrationInterface {
  name = 'WorkflowStartRequests1765110000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow_starts ADD COLUMN request jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow_starts DROP COLUMN IF EXISTS request`);
  }
}
