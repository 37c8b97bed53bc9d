import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Non-physical interfaces (VLANs, bridges, bonds) a registered host reports share their MAC with
 * a physical NIC, so a MAC is unique among physical interfaces only; a non-physical one is known
 * by its machine and name. Release removes the non-physical ones (they belong to the workload).
 */
export class InterfaceTypes1764300000000 implements MigrationInterface {
  name = 'InterfaceTypes1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE interfaces DROP CONSTRAINT interfaces_mac_address_key`);
    await q.query(`CREATE UNIQUE INDEX interfaces_physical_mac ON interfaces (mac_address) WHERE type = 'physical'`);
    await q.query(`CREATE INDEX interfaces_mac ON interfaces (mac_address)`);
    await q.query(
      `CREATE UNIQUE INDEX interfaces_virtual_name ON interfaces (machine_id, name) WHERE type <> 'physical'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM interfaces WHERE type <> 'physical'`);
    await q.query(`DROP INDEX IF EXISTS interfaces_virtual_name`);
    await q.query(`DROP INDEX IF EXISTS interfaces_mac`);
    await q.query(`DROP INDEX IF EXISTS interfaces_physical_mac`);
    await q.query(`ALTER TABLE interfaces ADD CONSTRAINT interfaces_mac_address_key UNIQUE (mac_address)`);
  }
}
