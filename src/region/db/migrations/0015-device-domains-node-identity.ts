import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Devices name their domain like machines do (a foreign key to domains.name: a rename follows onto
 * them, a domain in use cannot be deleted, none given → the current default domain).
 *
 * A hostname and a physical MAC name one node, machine or device (MAAS has one node table; here
 * they are two). The checks before an INSERT cannot see another transaction's uncommitted row in
 * the other table, so the database holds the rule: triggers keep every node's hostname in
 * node_hostnames and every machine's physical MAC and device MAC in node_macs, whose primary keys
 * make the second of two racing transactions wait for the first and then fail with 23505.
 */
export class DeviceDomainsNodeIdentity1764850000000 implements MigrationInterface {
  name = 'DeviceDomainsNodeIdentity1764850000000';

  async up(q: QueryRunner): Promise<void> {
    // Domains devices already name (any valid name was taken) become domains of their own.
    await q.query(
      `INSERT INTO domains (name) SELECT DISTINCT domain FROM devices WHERE domain NOT IN (SELECT name FROM domains)`,
    );
    await q.query(
      `ALTER TABLE devices ADD CONSTRAINT devices_domain_fk FOREIGN KEY (domain) REFERENCES domains(name) ON UPDATE CASCADE`,
    );
    await q.query(`CREATE INDEX devices_domain ON devices (domain)`);
    await q.query(`ALTER TABLE devices ALTER COLUMN domain DROP DEFAULT`);
    // The machines' function (0010) fills NEW.domain whatever the table.
    await q.query(`
      CREATE TRIGGER devices_default_domain BEFORE INSERT ON devices
        FOR EACH ROW EXECUTE FUNCTION machines_default_domain()`);

    await q.query(`CREATE TABLE node_hostnames (hostname text PRIMARY KEY)`);
    await q.query(`
      CREATE TABLE node_macs (
        mac_address macaddr PRIMARY KEY,
        machine_interface_id integer REFERENCES interfaces(id) ON DELETE CASCADE,
        device_interface_id integer REFERENCES device_interfaces(id) ON DELETE CASCADE,
        CHECK ((machine_interface_id IS NULL) <> (device_interface_id IS NULL))
      )`);
    // Before this migration only devices checked machines: a device that took a machine's
    // hostname in a race is renamed (the machine keeps it, as the one MAAS clients know).
    await q.query(`
      UPDATE devices d SET hostname = d.hostname || '-' || d.system_id
       WHERE EXISTS (SELECT 1 FROM machines m WHERE m.hostname = d.hostname)`);
    const clashes: Array<{ mac: string }> = await q.query(`
      SELECT di.mac_address::text AS mac FROM device_interfaces di
        JOIN interfaces i ON i.mac_address = di.mac_address AND i.type = 'physical'`);
    if (clashes.length)
      throw new Error(
        `MAC addresses held by both a machine and a device: ${clashes.map((c) => c.mac).join(', ')}. ` +
          'Delete the device interface (or the device) holding each, then start again.',
      );
    await q.query(
      `INSERT INTO node_hostnames (hostname) SELECT hostname FROM machines UNION ALL SELECT hostname FROM devices`,
    );
    await q.query(`
      INSERT INTO node_macs (mac_address, machine_interface_id)
        SELECT mac_address, id FROM interfaces WHERE type = 'physical'`);
    await q.query(`
      INSERT INTO node_macs (mac_address, device_interface_id) SELECT mac_address, id FROM device_interfaces`);

    // One function for both node tables: they share the hostname column.
    await q.query(`
      CREATE FUNCTION node_hostname_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          DELETE FROM node_hostnames WHERE hostname = OLD.hostname;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO node_hostnames (hostname) VALUES (NEW.hostname);
        END IF;
        RETURN NULL;
      END $$`);
    for (const table of ['machines', 'devices']) {
      await q.query(`
        CREATE TRIGGER ${table}_hostname_claim AFTER INSERT OR DELETE ON ${table}
          FOR EACH ROW EXECUTE FUNCTION node_hostname_claim()`);
      await q.query(`
        CREATE TRIGGER ${table}_hostname_rename AFTER UPDATE OF hostname ON ${table}
          FOR EACH ROW WHEN (OLD.hostname IS DISTINCT FROM NEW.hostname) EXECUTE FUNCTION node_hostname_claim()`);
    }
    // A machine's bonds, bridges and VLANs share their NIC's MAC: only physical ones claim it.
    await q.query(`
      CREATE FUNCTION machine_mac_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          DELETE FROM node_macs WHERE machine_interface_id = OLD.id;
        END IF;
        IF NEW.type = 'physical' THEN
          INSERT INTO node_macs (mac_address, machine_interface_id) VALUES (NEW.mac_address, NEW.id);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER interfaces_mac_claim AFTER INSERT ON interfaces
        FOR EACH ROW EXECUTE FUNCTION machine_mac_claim()`);
    await q.query(`
      CREATE TRIGGER interfaces_mac_reclaim AFTER UPDATE OF mac_address, type ON interfaces
        FOR EACH ROW WHEN (OLD.mac_address IS DISTINCT FROM NEW.mac_address OR OLD.type IS DISTINCT FROM NEW.type)
        EXECUTE FUNCTION machine_mac_claim()`);
    await q.query(`
      CREATE FUNCTION device_mac_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          DELETE FROM node_macs WHERE device_interface_id = OLD.id;
        END IF;
        INSERT INTO node_macs (mac_address, device_interface_id) VALUES (NEW.mac_address, NEW.id);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER device_interfaces_mac_claim AFTER INSERT ON device_interfaces
        FOR EACH ROW EXECUTE FUNCTION device_mac_claim()`);
    await q.query(`
      CREATE TRIGGER device_interfaces_mac_reclaim AFTER UPDATE OF mac_address ON device_interfaces
        FOR EACH ROW WHEN (OLD.mac_address IS DISTINCT FROM NEW.mac_address) EXECUTE FUNCTION device_mac_claim()`);
    // Deleted interfaces release their MAC through node_macs' ON DELETE CASCADE.
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS device_interfaces_mac_reclaim ON device_interfaces`);
    await q.query(`DROP TRIGGER IF EXISTS device_interfaces_mac_claim ON device_interfaces`);
    await q.query(`DROP TRIGGER IF EXISTS interfaces_mac_reclaim ON interfaces`);
    await q.query(`DROP TRIGGER IF EXISTS interfaces_mac_claim ON interfaces`);
    for (const table of ['machines', 'devices']) {
      await q.query(`DROP TRIGGER IF EXISTS ${table}_hostname_rename ON ${table}`);
      await q.query(`DROP TRIGGER IF EXISTS ${table}_hostname_claim ON ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS device_mac_claim(), machine_mac_claim(), node_hostname_claim()`);
    await q.query(`DROP TABLE IF EXISTS node_macs, node_hostnames`);
    await q.query(`DROP TRIGGER IF EXISTS devices_default_domain ON devices`);
    await q.query(`ALTER TABLE devices ALTER COLUMN domain SET DEFAULT 'maas'`);
    await q.query(`DROP INDEX IF EXISTS devices_domain`);
    await q.query(`ALTER TABLE devices DROP CONSTRAINT IF EXISTS devices_domain_fk`);
  }
}
