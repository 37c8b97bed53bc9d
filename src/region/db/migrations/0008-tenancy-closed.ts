import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenancy fails closed: a pool on which an entitlement was ever granted stays `restricted` (admins
 * only) when its last entitlement goes, by revoke or because its group was deleted, until an admin
 * opens it again. `placed`: a placement rule has placed the machine (placement runs when a machine
 * becomes READY, until one rule has matched).
 */
export class TenancyClosed1764600000000 implements MigrationInterface {
  name = 'TenancyClosed1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE resource_pools ADD COLUMN restricted boolean NOT NULL DEFAULT false;
      UPDATE resource_pools SET restricted = true WHERE id IN (SELECT pool_id FROM pool_entitlements);
      ALTER TABLE machines ADD COLUMN placed boolean NOT NULL DEFAULT false;
      UPDATE machines m SET placed = true
       WHERE EXISTS (SELECT 1 FROM events e WHERE e.machine_id = m.id AND e.type = 'Placed');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE resource_pools DROP COLUMN IF EXISTS restricted; ALTER TABLE machines DROP COLUMN IF EXISTS placed`,
    );
  }
}
