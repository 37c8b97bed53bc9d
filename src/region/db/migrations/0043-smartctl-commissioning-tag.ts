import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS tags smartctl-validate `commissioning` (its template's `tags: {{if 'validate' in name}}
 * commissioning{{endif}}`), which is what makes it MAAS's default testing set: op=test without
 * testing_scripts runs the testing scripts tagged so. Migration 0038 gave it only `storage`.
 */
export class SmartctlCommissioningTag1765200000000 implements MigrationInterface {
  name = 'SmartctlCommissioningTag1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE scripts SET tags = array_prepend('commissioning', tags)
        WHERE name = 'smartctl-validate' AND is_default AND NOT ('commissioning' = ANY(tags))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE scripts SET tags = array_remove(tags, 'commissioning') WHERE name = 'smartctl-validate' AND is_default`,
    );
  }
}
