import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A machine's events outlive it, as in MAAS (Event.node is set to NULL on deletion and the event
 * keeps node_hostname / node_system_id). `events.machine_id` was ON DELETE CASCADE, so deleting a
 * machine erased its history. Now the row stays, `machine_id` becomes NULL, and a trigger copies
 * the machine's hostname and system_id onto its events just before any delete of the machine
 * (every path: the API, a rack's removal, tests), so nothing has to remember to do it.
 */
export class EventsOutliveMachines1764820000000 implements MigrationInterface {
  name = 'EventsOutliveMachines1764820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE events
        ADD COLUMN node_system_id text,
        ADD COLUMN node_hostname text NOT NULL DEFAULT '',
        ALTER COLUMN machine_id DROP NOT NULL,
        DROP CONSTRAINT events_machine_id_fkey,
        ADD CONSTRAINT events_machine_id_fkey FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE SET NULL;
      CREATE INDEX events_node_system_id_idx ON events (node_system_id, id) WHERE machine_id IS NULL;
      CREATE INDEX events_node_hostname_idx ON events (node_hostname, id) WHERE machine_id IS NULL;
      CREATE FUNCTION events_keep_machine_names() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE events SET node_system_id = OLD.system_id, node_hostname = OLD.hostname WHERE machine_id = OLD.id;
        RETURN OLD;
      END $$;
      CREATE TRIGGER machines_keep_event_names BEFORE DELETE ON machines
        FOR EACH ROW EXECUTE FUNCTION events_keep_machine_names();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER IF EXISTS machines_keep_event_names ON machines;
      DROP FUNCTION IF EXISTS events_keep_machine_names();
      DELETE FROM events WHERE machine_id IS NULL;
      ALTER TABLE events
        DROP CONSTRAINT events_machine_id_fkey,
        ADD CONSTRAINT events_machine_id_fkey FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE CASCADE,
        ALTER COLUMN machine_id SET NOT NULL,
        DROP COLUMN IF EXISTS node_hostname,
        DROP COLUMN IF EXISTS node_system_id;
    `);
  }
}
