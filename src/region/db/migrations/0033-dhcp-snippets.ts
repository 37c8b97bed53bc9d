import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's DHCP snippets: a name, ISC dhcpd text the rack's DHCP server applies (contracts/
 * dhcp-snippets.ts), scoped to a machine, a subnet or nothing (global). Each value is kept as a
 * version (MAAS's VersionedTextFile): the newest is the value, the older ones its history, and a
 * revert deletes the versions after the one it goes back to.
 */
export class DhcpSnippets1765030000000 implements MigrationInterface {
  name = 'DhcpSnippets1765030000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dhcp_snippets (
        id serial PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        description text NOT NULL DEFAULT '',
        enabled boolean NOT NULL DEFAULT true,
        machine_id integer REFERENCES machines(id) ON DELETE CASCADE,
        subnet_id integer REFERENCES subnets(id) ON DELETE CASCADE,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        CHECK (machine_id IS NULL OR subnet_id IS NULL)
      );
      CREATE TABLE dhcp_snippet_versions (
        id serial PRIMARY KEY,
        snippet_id integer NOT NULL REFERENCES dhcp_snippets(id) ON DELETE CASCADE,
        data text NOT NULL,
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX dhcp_snippet_versions_snippet_idx ON dhcp_snippet_versions (snippet_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dhcp_snippet_versions; DROP TABLE IF EXISTS dhcp_snippets`);
  }
}
