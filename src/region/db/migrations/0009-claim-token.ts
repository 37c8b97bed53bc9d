import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `claim_token`: the token of the lifecycle start whose transaction last claimed the machine (the
 * API writes it with `workflow_id` and passes it to the workflow). Releasing the claim
 * (mark_broken, a finished or reconciled workflow) clears `workflow_id` and leaves the token: the
 * workflow's first step can tell "the API's commit was lost" (another token) from "an operator
 * released my claim" (my token, no claim), and only re-applies the transition in the first case.
 */
export class ClaimToken1764700000000 implements MigrationInterface {
  name = 'ClaimToken1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines ADD COLUMN claim_token text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN IF EXISTS claim_token`);
  }
}
