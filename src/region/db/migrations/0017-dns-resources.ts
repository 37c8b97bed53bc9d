import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's DNSResource (a label in a domain, with address records from its addresses) and DNSData
 * (its other records: CNAME, MX, NS, SRV, SSHFP, TXT). A domain with resources cannot be deleted
 * (MAAS's PROTECT); a resource's addresses and records go with it.
 */
export class DnsResources1764870000000 implements MigrationInterface {
  name = 'DnsResources1764870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dns_resources (
        id serial PRIMARY KEY,
        name text NOT NULL,
        domain_id integer NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
        address_ttl integer CHECK (address_ttl >= 0),
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        UNIQUE (domain_id, name)
      )`);
    await q.query(`
      CREATE TABLE dns_resource_addresses (
        resource_id integer NOT NULL REFERENCES dns_resources(id) ON DELETE CASCADE,
        ip inet NOT NULL,
        PRIMARY KEY (resource_id, ip)
      )`);
    await q.query(`
      CREATE TABLE dns_data (
        id serial PRIMARY KEY,
        resource_id integer NOT NULL REFERENCES dns_resources(id) ON DELETE CASCADE,
        rrtype varchar(8) NOT NULL,
        rrdata text NOT NULL,
        ttl integer CHECK (ttl >= 0),
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dns_data_resource_idx ON dns_data (resource_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dns_data`);
    await q.query(`DROP TABLE IF EXISTS dns_resource_addresses`);
    await q.query(`DROP TABLE IF EXISTS dns_resources`);
  }
}
