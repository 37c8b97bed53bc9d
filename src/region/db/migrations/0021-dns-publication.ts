import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every table whose rows end up in a DNS answer (zones, records, nodes' addresses, upstream_dns). */
export const DNS_SOURCE_TABLES = [
  'domains',
  'dns_resources',
  'dns_resource_addresses',
  'dns_data',
  'machines',
  'interfaces',
  'interface_links',
  'reserved_ips',
  'dhcp_leases',
  'subnets',
  'devices',
  'device_interfaces',
  'device_links',
  'config',
] as const;

/**
 * What the region's DNS server needs from the database (issue 14 item 5): a notification on the
 * `metalflow_dns` channel after any statement that changes a table DNS answers come from (one per
 * statement, not per row: the publisher regenerates everything and debounces), and the zones' SOA
 * serial as a sequence, so it only ever increases, across restarts and region processes alike
 * (MAAS's maasserver_zone_serial_seq). It starts high (1764910000, still far below 2^32) so a
 * secondary that once held hand-written zones with small serials takes ours as newer.
 */
export class DnsPublication1764910000000 implements MigrationInterface {
  name = 'DnsPublication1764910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE dns_zone_serial START WITH 1764910000 MAXVALUE 4294967295`);
    await q.query(`
      CREATE FUNCTION dns_source_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('metalflow_dns', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    for (const table of DNS_SOURCE_TABLES)
      await q.query(
        `CREATE TRIGGER ${table}_dns_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
           FOR EACH STATEMENT EXECUTE FUNCTION dns_source_changed()`,
      );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of DNS_SOURCE_TABLES) await q.query(`DROP TRIGGER IF EXISTS ${table}_dns_changed ON ${table}`);
    await q.query(`DROP FUNCTION IF EXISTS dns_source_changed()`);
    await q.query(`DROP SEQUENCE IF EXISTS dns_zone_serial`);
  }
}
