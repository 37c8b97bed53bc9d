import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's networking model, as much as DHCP and PXE need: fabric → VLAN (dhcp_on, primary and
 * secondary rack) → subnet → IP ranges (dynamic = the DHCP pool, reserved = never handed out),
 * addresses reserved for a MAC (fixed DHCP hosts), and the leases racks report.
 */
export class Network1764100000000 implements MigrationInterface {
  name = 'Network1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fabrics (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE vlans (
        id serial PRIMARY KEY,
        fabric_id integer NOT NULL REFERENCES fabrics(id) ON DELETE CASCADE,
        vid integer NOT NULL CHECK (vid BETWEEN 0 AND 4094),
        name text NOT NULL DEFAULT '',
        description text NOT NULL DEFAULT '',
        mtu integer NOT NULL DEFAULT 1500 CHECK (mtu BETWEEN 552 AND 65535),
        dhcp_on boolean NOT NULL DEFAULT false,
        primary_rack_id integer REFERENCES racks(id) ON DELETE SET NULL,
        secondary_rack_id integer REFERENCES racks(id) ON DELETE SET NULL,
        UNIQUE (fabric_id, vid)
      )`);
    // MAAS numbers VLAN ids from 5001 so they never look like VIDs.
    await q.query(`ALTER SEQUENCE vlans_id_seq RESTART WITH 5001`);
    await q.query(`
      CREATE TABLE subnets (
        id serial PRIMARY KEY,
        name text NOT NULL,
        cidr cidr NOT NULL UNIQUE,
        vlan_id integer NOT NULL REFERENCES vlans(id) ON DELETE RESTRICT,
        gateway_ip inet,
        dns_servers text[] NOT NULL DEFAULT '{}',
        managed boolean NOT NULL DEFAULT true,
        description text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE ip_ranges (
        id serial PRIMARY KEY,
        subnet_id integer NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('dynamic', 'reserved')),
        start_ip inet NOT NULL,
        end_ip inet NOT NULL,
        comment text NOT NULL DEFAULT '',
        user_id integer REFERENCES users(id) ON DELETE SET NULL,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CHECK (start_ip <= end_ip)
      )`);
    await q.query(`CREATE INDEX ip_ranges_subnet ON ip_ranges (subnet_id)`);
    await q.query(`
      CREATE TABLE reserved_ips (
        id serial PRIMARY KEY,
        subnet_id integer NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
        ip inet NOT NULL UNIQUE,
        mac_address macaddr,
        hostname text NOT NULL DEFAULT '',
        comment text NOT NULL DEFAULT '',
        user_id integer REFERENCES users(id) ON DELETE SET NULL,
        created timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX reserved_ips_subnet_mac ON reserved_ips (subnet_id, mac_address) WHERE mac_address IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE dhcp_leases (
        ip inet PRIMARY KEY,
        mac_address macaddr NOT NULL,
        hostname text NOT NULL DEFAULT '',
        subnet_id integer REFERENCES subnets(id) ON DELETE SET NULL,
        rack_id integer REFERENCES racks(id) ON DELETE CASCADE,
        expires timestamptz,
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dhcp_leases_mac ON dhcp_leases (mac_address)`);
    await q.query(`INSERT INTO fabrics (id, name) VALUES (0, 'fabric-0')`);
    await q.query(`INSERT INTO vlans (fabric_id, vid, name) VALUES (0, 0, 'untagged')`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['dhcp_leases', 'reserved_ips', 'ip_ranges', 'subnets', 'vlans', 'fabrics'])
      await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
