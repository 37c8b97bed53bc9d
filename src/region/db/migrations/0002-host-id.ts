import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A deployed machine's stable host identity (DMI product_uuid or /etc/machine-id, sent by
 * maas-run-scripts register-machine): running register-machine again on the same host finds the
 * machine by it instead of creating a second one, whatever the host is called by then.
 */
export class HostId1764000000000 implements MigrationInterface {
  name = 'HostId1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines ADD COLUMN host_id text`);
    await q.query(`CREATE UNIQUE INDEX machines_host_id_key ON machines (host_id) WHERE host_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN IF EXISTS host_id`);
  }
}
