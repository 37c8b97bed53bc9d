import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's scripts framework (issue 20): scripts (commissioning, testing, release) with their
 * embedded metadata, each script's text kept as versions (MAAS's VersionedTextFile: the newest is
 * the script, the older ones its history, a revert deletes the versions after its target); script
 * sets (one per commissioning or testing run of a machine, keyed by the claim token of the
 * operation that made it) and their results (one per script, pending until the machine uploads
 * its output with op=signal).
 */
export class Scripts1765070000000 implements MigrationInterface {
  name = 'Scripts1765070000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scripts (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
        title text NOT NULL DEFAULT '',
        description text NOT NULL DEFAULT '',
        tags text[] NOT NULL DEFAULT '{}',
        script_type smallint NOT NULL CHECK (script_type IN (0, 2, 3)),
        hardware_type smallint NOT NULL DEFAULT 0 CHECK (hardware_type BETWEEN 0 AND 5),
        parallel smallint NOT NULL DEFAULT 0 CHECK (parallel BETWEEN 0 AND 2),
        timeout_seconds integer NOT NULL DEFAULT 0 CHECK (timeout_seconds >= 0),
        destructive boolean NOT NULL DEFAULT false,
        parameters jsonb NOT NULL DEFAULT '{}',
        results jsonb NOT NULL DEFAULT '{}',
        packages jsonb NOT NULL DEFAULT '{}',
        for_hardware text[] NOT NULL DEFAULT '{}',
        may_reboot boolean NOT NULL DEFAULT false,
        recommission boolean NOT NULL DEFAULT false,
        apply_configured_networking boolean NOT NULL DEFAULT false,
        is_default boolean NOT NULL DEFAULT false,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE script_versions (
        id serial PRIMARY KEY,
        script_id integer NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
        data bytea NOT NULL,
        comment text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX script_versions_script_idx ON script_versions (script_id, id);
      CREATE TABLE script_sets (
        id serial PRIMARY KEY,
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        result_type smallint NOT NULL CHECK (result_type IN (0, 1, 2, 3)),
        claim_token text,
        created timestamptz NOT NULL DEFAULT now(),
        last_ping timestamptz
      );
      CREATE INDEX script_sets_machine_idx ON script_sets (machine_id, result_type, id);
      CREATE UNIQUE INDEX script_sets_claim_idx ON script_sets (machine_id, result_type, claim_token);
      CREATE TABLE script_results (
        id serial PRIMARY KEY,
        script_set_id integer NOT NULL REFERENCES script_sets(id) ON DELETE CASCADE,
        script_id integer REFERENCES scripts(id) ON DELETE SET NULL,
        script_version_id integer REFERENCES script_versions(id) ON DELETE SET NULL,
        script_name text NOT NULL,
        status smallint NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 11),
        exit_status integer,
        started timestamptz,
        ended timestamptz,
        parameters jsonb NOT NULL DEFAULT '{}',
        output bytea NOT NULL DEFAULT '',
        stdout bytea NOT NULL DEFAULT '',
        stderr bytea NOT NULL DEFAULT '',
        result bytea NOT NULL DEFAULT '',
        suppressed boolean NOT NULL DEFAULT false,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now(),
        UNIQUE (script_set_id, script_name)
      );`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS script_results, script_sets, script_versions, scripts`);
  }
}
