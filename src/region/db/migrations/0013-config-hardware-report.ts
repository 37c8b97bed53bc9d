import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `config` (created unused by 0001) becomes MAAS's global settings, the `maas` handler's
 * set_config: one row per name an admin set, its value as JSON; a name without a row has its
 * default (services/config-items.ts). `updated` says when it last changed.
 *
 * `machines.hardware_report`: the last hardware report commissioning applied, as validated
 * (bounded by HARDWARE_LIMITS), and when: what node-results/ and a machine's `details` show.
 */
export class ConfigHardwareReport1764830000000 implements MigrationInterface {
  name = 'ConfigHardwareReport1764830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE config ADD COLUMN updated timestamptz NOT NULL DEFAULT now()`);
    await q.query(`ALTER TABLE machines ADD COLUMN hardware_report jsonb, ADD COLUMN hardware_report_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE machines DROP COLUMN IF EXISTS hardware_report, DROP COLUMN IF EXISTS hardware_report_at`,
    );
    await q.query(`ALTER TABLE config DROP COLUMN IF EXISTS updated`);
  }
}
