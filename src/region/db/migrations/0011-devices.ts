import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's devices (node_type 1): non-deployable nodes such as Juju's containers, usually with a
 * parent machine. Their own tables, so no machine query (allocation, boot config, listings) can
 * pick one up by mistake. A device goes with its parent (ON DELETE CASCADE; release deletes them
 * in its own transaction). `domain` is a plain name until the domains table links it.
 *
 * Device interfaces draw their ids from the machines' interface sequence, so an interface id
 * names one interface whichever kind of node holds it (MAAS has one interface table). Their
 * links hold the addresses: `ip` is UNIQUE, so two requests picking the same free address
 * cannot both keep it, whatever the checks before the INSERT saw.
 */
export class Devices1764810000000 implements MigrationInterface {
  name = 'Devices1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE devices (
        id serial PRIMARY KEY,
        system_id varchar(6) NOT NULL UNIQUE,
        hostname text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        domain text NOT NULL DEFAULT 'maas',
        owner_id integer REFERENCES users(id) ON DELETE SET NULL,
        parent_id integer REFERENCES machines(id) ON DELETE CASCADE,
        zone_id integer REFERENCES zones(id) ON DELETE SET NULL,
        agent_name text NOT NULL DEFAULT '',
        workload_annotations jsonb NOT NULL DEFAULT '{}',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX devices_parent_idx ON devices (parent_id)`);
    await q.query(`CREATE INDEX devices_owner_idx ON devices (owner_id)`);
    await q.query(`
      CREATE TABLE device_interfaces (
        id integer PRIMARY KEY DEFAULT nextval('interfaces_id_seq'),
        device_id integer NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        name text NOT NULL,
        mac_address macaddr NOT NULL UNIQUE,
        vlan_id integer REFERENCES vlans(id) ON DELETE SET NULL,
        enabled boolean NOT NULL DEFAULT true,
        UNIQUE (device_id, name)
      )`);
    await q.query(`
      CREATE TABLE device_links (
        id serial PRIMARY KEY,
        interface_id integer NOT NULL REFERENCES device_interfaces(id) ON DELETE CASCADE,
        mode text NOT NULL CHECK (mode IN ('static', 'dhcp', 'link_up')),
        subnet_id integer REFERENCES subnets(id) ON DELETE CASCADE,
        ip inet UNIQUE,
        created timestamptz NOT NULL DEFAULT now(),
        CHECK ((mode = 'static') = (ip IS NOT NULL)),
        CHECK (mode = 'link_up' OR subnet_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX device_links_interface_idx ON device_links (interface_id)`);
    await q.query(`CREATE INDEX device_links_subnet_idx ON device_links (subnet_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS device_links, device_interfaces, devices`);
  }
}
