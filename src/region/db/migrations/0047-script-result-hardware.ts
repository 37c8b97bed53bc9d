import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A script with a storage or interface parameter runs once per disk or interface it is given (MAAS's
 * ParametersForm: `all`, or no value, is every one), so a set holds several results of one script
 * name, each naming its hardware instance as MAAS's ScriptResult.physical_blockdevice / interface.
 * A removed disk or interface leaves its result, no longer naming it.
 */
export class ScriptResultHardware1765240000000 implements MigrationInterface {
  name = 'ScriptResultHardware1765240000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE script_results DROP CONSTRAINT IF EXISTS script_results_script_set_id_script_name_key`);
    await q.query(`
      ALTER TABLE script_results
        ADD COLUMN physical_blockdevice_id integer REFERENCES storage_block_devices(id) ON DELETE SET NULL,
        ADD COLUMN interface_id integer REFERENCES interfaces(id) ON DELETE SET NULL`);
    // What the unique constraint's index gave: a set's results by script name.
    await q.query(`CREATE INDEX script_results_set_name_idx ON script_results (script_set_id, script_name)`);
    // The foreign keys' deletes look results up by their hardware.
    await q.query(
      `CREATE INDEX script_results_blockdevice_idx ON script_results (physical_blockdevice_id) WHERE physical_blockdevice_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX script_results_interface_idx ON script_results (interface_id) WHERE interface_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS script_results_set_name_idx`);
    await q.query(
      `ALTER TABLE script_results DROP COLUMN IF EXISTS physical_blockdevice_id, DROP COLUMN IF EXISTS interface_id`,
    );
    await q.query(
      `ALTER TABLE script_results ADD CONSTRAINT script_results_script_set_id_script_name_key UNIQUE (script_set_id, script_name)`,
    );
  }
}
