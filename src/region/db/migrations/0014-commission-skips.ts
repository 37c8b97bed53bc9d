import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's Node.skip_networking / skip_storage: set by `op=commission skip_networking=true` (or
 * skip_storage), read when that commissioning's hardware report arrives, which then leaves the
 * machine's interfaces (or its block devices) as they were, and cleared there, as MAAS's
 * commissioning hooks clear them.
 */
export class CommissionSkips1764840000000 implements MigrationInterface {
  name = 'CommissionSkips1764840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE machines ADD COLUMN skip_networking boolean NOT NULL DEFAULT false,
                            ADD COLUMN skip_storage boolean NOT NULL DEFAULT false`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN IF EXISTS skip_networking, DROP COLUMN IF EXISTS skip_storage`);
  }
}
