import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's storage model (issue 13 item 2): a machine's block devices (physical ones from
 * commissioning, virtual ones made by LVM or md RAID), partition tables and partitions,
 * filesystems on a device or a partition, and filesystem groups (an LVM volume group, an md RAID)
 * whose members are filesystems of type lvm-pv / raid / raid-spare, as in MAAS's models.
 * machines.bios_boot_method says whether the machine boots UEFI (an ESP is then required).
 * The JSONB machines.block_devices stays the allocator's input until it reads these tables.
 */
export class Storage1764860000000 implements MigrationInterface {
  name = 'Storage1764860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE machines ADD COLUMN bios_boot_method text NOT NULL DEFAULT '';
      CREATE TABLE storage_filesystem_groups (
        id serial PRIMARY KEY,
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        name text NOT NULL,
        group_type text NOT NULL,
        uuid text NOT NULL,
        UNIQUE (machine_id, name)
      );
      CREATE TABLE storage_block_devices (
        id serial PRIMARY KEY,
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('physical', 'virtual')),
        name text NOT NULL,
        path text NOT NULL DEFAULT '',
        model text NOT NULL DEFAULT '',
        serial text NOT NULL DEFAULT '',
        id_path text NOT NULL DEFAULT '',
        size bigint NOT NULL CHECK (size >= 0),
        block_size integer NOT NULL DEFAULT 512,
        tags text[] NOT NULL DEFAULT '{}',
        is_boot boolean NOT NULL DEFAULT false,
        uuid text,
        filesystem_group_id integer REFERENCES storage_filesystem_groups(id) ON DELETE CASCADE,
        CHECK ((type = 'virtual') = (filesystem_group_id IS NOT NULL)),
        UNIQUE (machine_id, name)
      );
      CREATE INDEX storage_block_devices_group ON storage_block_devices (filesystem_group_id);
      CREATE TABLE storage_partition_tables (
        id serial PRIMARY KEY,
        block_device_id integer NOT NULL UNIQUE REFERENCES storage_block_devices(id) ON DELETE CASCADE,
        table_type text NOT NULL DEFAULT 'GPT'
      );
      CREATE TABLE storage_partitions (
        id serial PRIMARY KEY,
        partition_table_id integer NOT NULL REFERENCES storage_partition_tables(id) ON DELETE CASCADE,
        index integer NOT NULL,
        uuid text NOT NULL,
        size bigint NOT NULL CHECK (size > 0),
        bootable boolean NOT NULL DEFAULT false,
        tags text[] NOT NULL DEFAULT '{}',
        UNIQUE (partition_table_id, index)
      );
      CREATE TABLE storage_filesystems (
        id serial PRIMARY KEY,
        machine_id integer NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
        block_device_id integer UNIQUE REFERENCES storage_block_devices(id) ON DELETE CASCADE,
        partition_id integer UNIQUE REFERENCES storage_partitions(id) ON DELETE CASCADE,
        fstype text NOT NULL,
        label text NOT NULL DEFAULT '',
        uuid text NOT NULL,
        mount_point text,
        mount_options text,
        filesystem_group_id integer REFERENCES storage_filesystem_groups(id) ON DELETE CASCADE,
        CHECK ((block_device_id IS NULL) <> (partition_id IS NULL))
      );
      CREATE INDEX storage_filesystems_machine ON storage_filesystems (machine_id);
      CREATE INDEX storage_filesystems_group ON storage_filesystems (filesystem_group_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS storage_filesystems, storage_partitions, storage_partition_tables,
                           storage_block_devices, storage_filesystem_groups;
      ALTER TABLE machines DROP COLUMN IF EXISTS bios_boot_method;
    `);
  }
}
