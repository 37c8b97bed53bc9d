import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lifecycle start the API committed and whose workflow may not be running yet (the outbox of
 * services/workflow-starts.ts): written in the transaction of the status change, removed once the
 * workflow's first step claims the machine. The reconciler starts the workflow of a row left by a
 * region that died (or found Temporal down) between the commit and the start.
 */
export class WorkflowStarts1765050000000 implements MigrationInterface {
  name = 'WorkflowStarts1765050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workflow_starts (
        machine_id integer PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
        workflow_id text NOT NULL,
        workflow_type text NOT NULL,
        params jsonb NOT NULL,
        claim_token text NOT NULL,
        created timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS workflow_starts`);
  }
}
