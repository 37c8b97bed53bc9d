import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The built-in fio runs as MAAS's (`parallel: instance` in its metadata): its runs on several disks
 * together. 0038 declared it `disabled` (one disk after another) while it was a dd stand-in.
 */
export class FioParallelInstance1765280000000 implements MigrationInterface {
  name = 'FioParallelInstance1765280000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE scripts SET parallel = 1 WHERE name = 'fio' AND is_default AND parallel = 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE scripts SET parallel = 0 WHERE name = 'fio' AND is_default AND parallel = 1`);
  }
}
