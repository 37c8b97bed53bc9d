import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's `ephemeral_deploy` (3.5): the machine was deployed to run its image from RAM, disks
 * untouched. Set by the deploy that asks for it, cleared by release; the boot config, the metadata
 * server (whose cloud-init report finishes the deploy) and release (no erase) read it.
 */
export class EphemeralDeploy1764950000000 implements MigrationInterface {
  name = 'EphemeralDeploy1764950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines ADD COLUMN ephemeral_deploy boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN IF EXISTS ephemeral_deploy`);
  }
}
