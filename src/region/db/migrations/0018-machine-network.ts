import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's network model for machines (issue 14). An interface sits on a VLAN, carries MAAS's
 * per-type parameters (bond_mode, bridge_stp, mtu, …) and what commissioning saw of its link;
 * bonds, bridges and VLAN interfaces name their parents. A link is MAAS's StaticIPAddress tied to
 * an interface: AUTO (an address from the subnet, picked at deploy and returned at release: `ip`
 * stays NULL until then), STATIC (the address the user chose), DHCP, LINK_UP (no subnet needed).
 * `ip` is unique here; pickers also keep it clear of devices' links, reservations and leases,
 * serialised by the subnet's row lock. A machine's default gateway is one of its links per family.
 */
export class MachineNetwork1764880000000 implements MigrationInterface {
  name = 'MachineNetwork1764880000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE interfaces
        ADD COLUMN vlan_id integer REFERENCES vlans(id) ON DELETE SET NULL,
        ADD COLUMN params jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN link_connected boolean NOT NULL DEFAULT true,
        ADD COLUMN interface_speed integer NOT NULL DEFAULT 0,
        ADD COLUMN tags text[] NOT NULL DEFAULT '{}'`);
    await q.query(`CREATE INDEX interfaces_vlan_idx ON interfaces (vlan_id)`);
    await q.query(`
      CREATE TABLE interface_parents (
        child_id integer NOT NULL REFERENCES interfaces(id) ON DELETE CASCADE,
        parent_id integer NOT NULL REFERENCES interfaces(id) ON DELETE CASCADE,
        PRIMARY KEY (child_id, parent_id),
        CHECK (child_id <> parent_id)
      )`);
    await q.query(`CREATE INDEX interface_parents_parent_idx ON interface_parents (parent_id)`);
    await q.query(`
      CREATE TABLE interface_links (
        id serial PRIMARY KEY,
        interface_id integer NOT NULL REFERENCES interfaces(id) ON DELETE CASCADE,
        mode text NOT NULL CHECK (mode IN ('auto', 'static', 'dhcp', 'link_up')),
        subnet_id integer REFERENCES subnets(id) ON DELETE CASCADE,
        ip inet UNIQUE,
        created timestamptz NOT NULL DEFAULT now(),
        CHECK (mode <> 'static' OR ip IS NOT NULL),
        CHECK (mode IN ('static', 'auto') OR ip IS NULL),
        CHECK (mode = 'link_up' OR subnet_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX interface_links_interface_idx ON interface_links (interface_id)`);
    await q.query(`CREATE INDEX interface_links_subnet_idx ON interface_links (subnet_id)`);
    await q.query(`
      ALTER TABLE machines
        ADD COLUMN gateway_link_ipv4 integer REFERENCES interface_links(id) ON DELETE SET NULL,
        ADD COLUMN gateway_link_ipv6 integer REFERENCES interface_links(id) ON DELETE SET NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE machines DROP COLUMN IF EXISTS gateway_link_ipv4, DROP COLUMN IF EXISTS gateway_link_ipv6`,
    );
    await q.query(`DROP TABLE IF EXISTS interface_links, interface_parents`);
    await q.query(`DROP INDEX IF EXISTS interfaces_vlan_idx`);
    await q.query(
      `ALTER TABLE interfaces DROP COLUMN IF EXISTS vlan_id, DROP COLUMN IF EXISTS params, DROP COLUMN IF EXISTS link_connected,
         DROP COLUMN IF EXISTS interface_speed, DROP COLUMN IF EXISTS tags`,
    );
  }
}
