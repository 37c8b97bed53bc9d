import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `config` (created unused by 0001) becomes MAAS's global settings, the `maas` handler's
 * set_config: one row per name an admin set, its value as JSON; a name without a row has its
 * default (services/config-items.ts). `updated` says when it last changed.
 */
export class Config1764830000000 implements MigrationInterface {
  name = 'Config1764830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE config ADD COLUMN updated timestamptz NOT NULL DEFAULT now()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE config DROP COLUMN IF EXISTS updated`);
  }
}
