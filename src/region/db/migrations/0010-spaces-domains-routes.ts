import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's spaces (a VLAN belongs to at most one), DNS domains (machines name theirs; `maas`, id 0,
 * is the default) and static routes between subnets. Machines keep their domain by name, now a
 * foreign key: renaming a domain renames it on its machines, and one in use cannot be deleted.
 */
export class SpacesDomainsRoutes1764800000000 implements MigrationInterface {
  name = 'SpacesDomainsRoutes1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE spaces (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE vlans ADD COLUMN space_id integer REFERENCES spaces(id) ON DELETE SET NULL`);
    await q.query(`CREATE INDEX vlans_space ON vlans (space_id)`);
    await q.query(`
      CREATE TABLE domains (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        authoritative boolean NOT NULL DEFAULT true,
        ttl integer CHECK (ttl BETWEEN 1 AND 604800),
        is_default boolean NOT NULL DEFAULT false,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX domains_one_default ON domains (is_default) WHERE is_default`);
    await q.query(`INSERT INTO domains (id, name, authoritative, is_default) VALUES (0, 'maas', true, true)`);
    // Domains machines already name (enlistment took any valid name) become domains of their own.
    await q.query(`INSERT INTO domains (name) SELECT DISTINCT domain FROM machines WHERE domain <> 'maas'`);
    await q.query(
      `ALTER TABLE machines ADD CONSTRAINT machines_domain_fk FOREIGN KEY (domain) REFERENCES domains(name) ON UPDATE CASCADE`,
    );
    await q.query(`CREATE INDEX machines_domain ON machines (domain)`);
    // A machine inserted without a domain (controllers, tests' fixtures) gets the current default
    // one, which may have been renamed or replaced: a constant column default could name no domain.
    await q.query(`ALTER TABLE machines ALTER COLUMN domain DROP DEFAULT`);
    await q.query(`
      CREATE FUNCTION machines_default_domain() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.domain IS NULL THEN
          NEW.domain := (SELECT name FROM domains WHERE is_default);
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER machines_default_domain BEFORE INSERT ON machines
        FOR EACH ROW EXECUTE FUNCTION machines_default_domain()`);
    await q.query(`
      CREATE TABLE static_routes (
        id serial PRIMARY KEY,
        source_id integer NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
        destination_id integer NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
        gateway_ip inet NOT NULL,
        metric integer NOT NULL DEFAULT 0 CHECK (metric >= 0),
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        UNIQUE (source_id, destination_id, gateway_ip),
        CHECK (source_id <> destination_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS static_routes`);
    await q.query(`DROP TRIGGER IF EXISTS machines_default_domain ON machines`);
    await q.query(`DROP FUNCTION IF EXISTS machines_default_domain()`);
    await q.query(`ALTER TABLE machines ALTER COLUMN domain SET DEFAULT 'maas'`);
    await q.query(`ALTER TABLE machines DROP CONSTRAINT IF EXISTS machines_domain_fk`);
    await q.query(`DROP INDEX IF EXISTS machines_domain`);
    await q.query(`DROP TABLE IF EXISTS domains`);
    await q.query(`ALTER TABLE vlans DROP COLUMN IF EXISTS space_id`);
    await q.query(`DROP TABLE IF EXISTS spaces`);
  }
}
