import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a machine's power state was last known (its workflow's power command, or the rack's poll
 * that sampled it), so a rack's poll sampled before a newer state cannot overwrite it: the rack
 * queried `on`, the workflow then powered the machine off and recorded `off`, and the poll's
 * report arrived after.
 */
export class PowerStateAt1765250000000 implements MigrationInterface {
  name = 'PowerStateAt1765250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines ADD COLUMN power_state_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE machines DROP COLUMN power_state_at`);
  }
}
