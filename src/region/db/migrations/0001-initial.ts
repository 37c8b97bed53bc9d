import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The whole initial schema, as SQL: the migration is the source of truth, entities map onto it. */
export class Initial1763769600000 implements MigrationInterface {
  name = 'Initial1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id serial PRIMARY KEY,
        username text NOT NULL UNIQUE,
        email text NOT NULL DEFAULT '',
        password_hash text NOT NULL,
        is_superuser boolean NOT NULL DEFAULT false,
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE zones (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE resource_pools (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE tags (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        definition text NOT NULL DEFAULT '',
        comment text NOT NULL DEFAULT '',
        kernel_opts text NOT NULL DEFAULT ''
      );
      CREATE TABLE racks (
        id serial PRIMARY KEY,
        system_id varchar(6) NOT NULL UNIQUE,
        name text NOT NULL UNIQUE,
        interfaces jsonb NOT NULL DEFAULT '[]',
        services jsonb NOT NULL DEFAULT '{}',
        version text NOT NULL DEFAULT '',
        last_seen timestamptz NOT NULL DEFAULT now(),
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE machines (
        id serial PRIMARY KEY,
        system_id varchar(6) NOT NULL UNIQUE,
        hostname text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        domain text NOT NULL DEFAULT 'maas',
        architecture text NOT NULL DEFAULT '',
        cpu_count integer NOT NULL DEFAULT 0,
        cpu_speed integer NOT NULL DEFAULT 0,
        memory integer NOT NULL DEFAULT 0,
        storage double precision NOT NULL DEFAULT 0,
        status smallint NOT NULL,
        previous_status smallint NOT NULL DEFAULT 0,
        status_message text NOT NULL DEFAULT '',
        owner_id integer REFERENCES users(id) ON DELETE SET NULL,
        locked boolean NOT NULL DEFAULT false,
        power_type text NOT NULL DEFAULT '',
        power_parameters jsonb NOT NULL DEFAULT '{}',
        power_secrets text NOT NULL DEFAULT '',
        power_state text NOT NULL DEFAULT 'unknown',
        zone_id integer NOT NULL REFERENCES zones(id),
        pool_id integer REFERENCES resource_pools(id),
        rack_id integer REFERENCES racks(id) ON DELETE SET NULL,
        workflow_id text,
        workflow_type text,
        boot_purpose text NOT NULL DEFAULT 'poweroff',
        osystem text NOT NULL DEFAULT '',
        distro_series text NOT NULL DEFAULT '',
        hwe_kernel text NOT NULL DEFAULT '',
        user_data text NOT NULL DEFAULT '',
        agent_name text NOT NULL DEFAULT '',
        workload_annotations jsonb NOT NULL DEFAULT '{}',
        hardware_info jsonb NOT NULL DEFAULT '{}',
        block_devices jsonb NOT NULL DEFAULT '[]',
        commissioning_passed boolean NOT NULL DEFAULT false,
        enable_ssh boolean NOT NULL DEFAULT false,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX machines_status_idx ON machines (status);
      CREATE INDEX machines_owner_idx ON machines (owner_id);
      CREATE INDEX machines_pool_idx ON machines (pool_id);
      CREATE INDEX machines_zone_idx ON machines (zone_id);
      CREATE TABLE machine_tags (
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        tag_id integer NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (machine_id, tag_id)
      );
      CREATE INDEX machine_tags_tag_idx ON machine_tags (tag_id);
      CREATE TABLE interfaces (
        id serial PRIMARY KEY,
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        name text NOT NULL,
        type text NOT NULL DEFAULT 'physical',
        mac_address macaddr NOT NULL UNIQUE,
        enabled boolean NOT NULL DEFAULT true,
        link_speed integer NOT NULL DEFAULT 0,
        is_boot boolean NOT NULL DEFAULT false
      );
      CREATE INDEX interfaces_machine_idx ON interfaces (machine_id);
      CREATE TABLE api_tokens (
        id serial PRIMARY KEY,
        user_id integer REFERENCES users(id) ON DELETE CASCADE,
        machine_id integer REFERENCES machines(id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT '',
        consumer_key text NOT NULL,
        token_key text NOT NULL UNIQUE,
        token_secret text NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        CHECK ((user_id IS NULL) <> (machine_id IS NULL))
      );
      CREATE UNIQUE INDEX api_tokens_one_per_machine ON api_tokens (machine_id) WHERE machine_id IS NOT NULL;
      CREATE TABLE ssh_keys (
        id serial PRIMARY KEY,
        user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key text NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, key)
      );
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        type text NOT NULL,
        description text NOT NULL DEFAULT '',
        level text NOT NULL DEFAULT 'INFO',
        dedupe_key text UNIQUE,
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX events_machine_idx ON events (machine_id, id);
      CREATE TABLE config (
        name text PRIMARY KEY,
        value jsonb NOT NULL
      );
      INSERT INTO zones (name, description) VALUES ('default', 'Default zone');
      INSERT INTO resource_pools (name, description) VALUES ('default', 'Default pool');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS config, events, ssh_keys, api_tokens, interfaces, machine_tags,
      machines, racks, tags, resource_pools, zones, users CASCADE`);
  }
}
