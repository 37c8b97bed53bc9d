import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `temporal workflow reset` is a retry (issue 21): the run chain (Temporal's original run ID, kept
 * across resets) of the lifecycle workflow that last claimed the machine. Kept when the workflow
 * releases the machine (its outcome, the reconciler, mark_broken), replaced by the next start,
 * set to the marker `moved-on` (not NULL) by a status change no workflow made; a reset run
 * reclaims the machine only while it still carries its chain (activities/region/resume.ts).
 */
export class WorkflowChain1764960000000 implements MigrationInterface {
  name = 'WorkflowChain1764960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines ADD COLUMN workflow_chain text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN IF EXISTS workflow_chain`);
  }
}
