import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the request asked of a result's script (its `<script>_<parameter>` values, by parameter
 * name; null: the script's defaults), so a result can be made again as the request would make it
 * once commissioning has found the machine's hardware (services/scripts/script-regeneration.ts).
 */
export class ScriptResultRequested1765270000000 implements MigrationInterface {
  name = 'ScriptResultRequested1765270000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE script_results ADD COLUMN requested jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE script_results DROP COLUMN requested`);
  }
}
