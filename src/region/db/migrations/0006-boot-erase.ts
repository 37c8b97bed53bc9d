import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How the next commissioning boot erases the disks (release with erase: quick, full, secure);
 * empty for an ordinary netboot. The release workflow sets it with the boot purpose.
 */
export class BootErase1764450000000 implements MigrationInterface {
  name = 'BootErase1764450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines ADD COLUMN boot_erase text NOT NULL DEFAULT ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN IF EXISTS boot_erase`);
  }
}
