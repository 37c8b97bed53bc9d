import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Multi-tenancy: teams are groups of users (each with their own API keys); groups hold
 * entitlements on resource pools (view, deploy, admin; a pool nobody holds one on stays open to
 * every user, as before); a machine may be reserved for one user or one group, which outlives
 * allocate/release (MAAS's reservation is the owner field and is lost on release); placement rules
 * put newly commissioned machines in a pool and reserve them in the same transaction that makes
 * them READY.
 */
export class Tenancy1764200000000 implements MigrationInterface {
  name = 'Tenancy1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_groups (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE user_group_members (
        group_id integer NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
        user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      );
      CREATE INDEX user_group_members_user_idx ON user_group_members (user_id);
      CREATE TABLE pool_entitlements (
        pool_id integer NOT NULL REFERENCES resource_pools(id) ON DELETE CASCADE,
        group_id integer NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
        entitlement text NOT NULL CHECK (entitlement IN ('view', 'deploy', 'admin')),
        PRIMARY KEY (pool_id, group_id, entitlement)
      );
      CREATE INDEX pool_entitlements_group_idx ON pool_entitlements (group_id);
      ALTER TABLE machines
        ADD COLUMN reserved_user_id integer REFERENCES users(id) ON DELETE SET NULL,
        ADD COLUMN reserved_group_id integer REFERENCES user_groups(id) ON DELETE SET NULL,
        ADD CONSTRAINT machines_one_reservation CHECK (reserved_user_id IS NULL OR reserved_group_id IS NULL);
      CREATE INDEX machines_reserved_user_idx ON machines (reserved_user_id) WHERE reserved_user_id IS NOT NULL;
      CREATE INDEX machines_reserved_group_idx ON machines (reserved_group_id) WHERE reserved_group_id IS NOT NULL;
      CREATE TABLE placement_rules (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        priority integer NOT NULL DEFAULT 0,
        match jsonb NOT NULL DEFAULT '{}',
        pool_id integer REFERENCES resource_pools(id) ON DELETE CASCADE,
        reserved_user_id integer REFERENCES users(id) ON DELETE CASCADE,
        reserved_group_id integer REFERENCES user_groups(id) ON DELETE CASCADE,
        created timestamptz NOT NULL DEFAULT now(),
        CHECK (reserved_user_id IS NULL OR reserved_group_id IS NULL),
        CHECK (pool_id IS NOT NULL OR reserved_user_id IS NOT NULL OR reserved_group_id IS NOT NULL)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS placement_rules, pool_entitlements, user_group_members CASCADE;
      ALTER TABLE machines DROP COLUMN IF EXISTS reserved_user_id, DROP COLUMN IF EXISTS reserved_group_id;
      DROP TABLE IF EXISTS user_groups CASCADE;
    `);
  }
}
