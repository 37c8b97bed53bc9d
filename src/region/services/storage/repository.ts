// The storage tables (migration 0016): loading machines' storage in a constant number of queries,
// syncing physical devices from commissioning, clearing a configuration, writing a layout plan.
// Callers hold the machine's row lock when they write.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { LayoutPlan, PlannedFilesystem } from './layouts';
import type { MachineStorage, StoredBlockDevice } from './model';
import { queryAll } from '../query-all';

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);

/**
 * At most this many machines are loaded in one statement (storageRowsInOneStatement); more (a
 * listing) in the six set-wise queries, whose cost does not grow per machine.
 */
const ONE_STATEMENT_MAX = 16;

type StorageRows = [Row[], Row[], Row[], Row[], Row[], Row[]];

/** Every machine's storage: one statement for a few machines, six queries whatever the count for more. */
export async function loadStorage(manager: EntityManager, machineIds: number[]): Promise<Map<number, MachineStorage>> {
  if (machineIds.length === 0) return new Map();
  return storageOf(
    machineIds.length <= ONE_STATEMENT_MAX
      ? await storageRowsInOneStatement(manager, machineIds)
      : await storageRowsSetWise(manager, machineIds),
  );
}

/** The six queries, each over all the machines. */
export async function storageRowsSetWise(manager: EntityManager, machineIds: number[]): Promise<StorageRows> {
  return (await queryAll(manager, [
    () =>
      manager.query(`SELECT id, system_id, bios_boot_method, architecture FROM machines WHERE id = ANY($1::int[])`, [
        machineIds,
      ]),
    () =>
      manager.query(`SELECT * FROM storage_block_devices WHERE machine_id = ANY($1::int[]) ORDER BY id`, [machineIds]),
    () =>
      manager.query(
        `SELECT t.*, d.machine_id FROM storage_partition_tables t JOIN storage_block_devices d ON d.id = t.block_device_id
        WHERE d.machine_id = ANY($1::int[]) ORDER BY t.id`,
        [machineIds],
      ),
    () =>
      manager.query(
        `SELECT p.*, d.machine_id FROM storage_partitions p JOIN storage_partition_tables t ON t.id = p.partition_table_id
         JOIN storage_block_devices d ON d.id = t.block_device_id
        WHERE d.machine_id = ANY($1::int[]) ORDER BY p.id`,
        [machineIds],
      ),
    () =>
      manager.query(`SELECT * FROM storage_filesystems WHERE machine_id = ANY($1::int[]) ORDER BY id`, [machineIds]),
    () =>
      manager.query(`SELECT * FROM storage_filesystem_groups WHERE machine_id = ANY($1::int[]) ORDER BY id`, [
        machineIds,
      ]),
  ])) as StorageRows;
}

/**
 * The same rows in one statement: each machine's row carries its storage as JSON arrays (one
 * round trip where a commissioning, a layout change or a machine's page loads one machine). JSON
 * gives the same values the column types do here (text, integers, bigint sizes as numbers,
 * booleans, text[] as arrays), and storageOf reads both alike.
 */
export async function storageRowsInOneStatement(manager: EntityManager, machineIds: number[]): Promise<StorageRows> {
  const machines: Array<Row & { devices: Row[]; tables: Row[]; partitions: Row[]; filesystems: Row[]; groups: Row[] }> =
    await manager.query(
      `SELECT m.id, m.system_id, m.bios_boot_method, m.architecture,
            (SELECT coalesce(json_agg(d ORDER BY d.id), '[]') FROM storage_block_devices d WHERE d.machine_id = m.id) AS devices,
            (SELECT coalesce(json_agg(t ORDER BY t.id), '[]')
               FROM (SELECT t.*, d.machine_id FROM storage_partition_tables t
                       JOIN storage_block_devices d ON d.id = t.block_device_id WHERE d.machine_id = m.id) t) AS tables,
            (SELECT coalesce(json_agg(p ORDER BY p.id), '[]')
               FROM (SELECT p.*, d.machine_id FROM storage_partitions p
                       JOIN storage_partition_tables t ON t.id = p.partition_table_id
                       JOIN storage_block_devices d ON d.id = t.block_device_id WHERE d.machine_id = m.id) p) AS partitions,
            (SELECT coalesce(json_agg(f ORDER BY f.id), '[]') FROM storage_filesystems f WHERE f.machine_id = m.id) AS filesystems,
            (SELECT coalesce(json_agg(g ORDER BY g.id), '[]') FROM storage_filesystem_groups g WHERE g.machine_id = m.id) AS groups
       FROM machines m WHERE m.id = ANY($1::int[])`,
      [machineIds],
    );
  return [
    machines.map(({ id, system_id, bios_boot_method, architecture }) => ({
      id,
      system_id,
      bios_boot_method,
      architecture,
    })),
    machines.flatMap((m) => m.devices),
    machines.flatMap((m) => m.tables),
    machines.flatMap((m) => m.partitions),
    machines.flatMap((m) => m.filesystems),
    machines.flatMap((m) => m.groups),
  ];
}

/** Machines' storage from its rows (either way of loading them). */
export function storageOf([machines, devices, tables, partitions, filesystems, groups]: StorageRows): Map<
  number,
  MachineStorage
> {
  const out = new Map<number, MachineStorage>();
  for (const m of machines) {
    out.set(num(m.id), {
      systemId: String(m.system_id),
      biosBootMethod: String(m.bios_boot_method),
      architecture: String(m.architecture),
      devices: [],
      tables: [],
      partitions: [],
      filesystems: [],
      groups: [],
    });
  }
  for (const d of devices) out.get(num(d.machine_id))?.devices.push(deviceOf(d));
  for (const t of tables)
    out
      .get(num(t.machine_id))
      ?.tables.push({ id: num(t.id), blockDeviceId: num(t.block_device_id), tableType: String(t.table_type) });
  for (const p of partitions)
    out.get(num(p.machine_id))?.partitions.push({
      id: num(p.id),
      partitionTableId: num(p.partition_table_id),
      index: num(p.index),
      uuid: String(p.uuid),
      size: num(p.size),
      bootable: Boolean(p.bootable),
      tags: p.tags as string[],
    });
  for (const f of filesystems)
    out.get(num(f.machine_id))?.filesystems.push({
      id: num(f.id),
      blockDeviceId: f.block_device_id === null ? null : num(f.block_device_id),
      partitionId: f.partition_id === null ? null : num(f.partition_id),
      fstype: String(f.fstype),
      label: String(f.label),
      uuid: String(f.uuid),
      mountPoint: (f.mount_point as string | null) ?? null,
      mountOptions: (f.mount_options as string | null) ?? null,
      filesystemGroupId: f.filesystem_group_id === null ? null : num(f.filesystem_group_id),
    });
  for (const g of groups)
    out.get(num(g.machine_id))?.groups.push({
      id: num(g.id),
      name: String(g.name),
      groupType: String(g.group_type),
      uuid: String(g.uuid),
    });
  return out;
}

function deviceOf(d: Row): StoredBlockDevice {
  return {
    id: num(d.id),
    machineId: num(d.machine_id),
    type: d.type as 'physical' | 'virtual',
    name: String(d.name),
    path: String(d.path),
    model: String(d.model),
    serial: String(d.serial),
    idPath: String(d.id_path),
    size: num(d.size),
    blockSize: num(d.block_size),
    tags: d.tags as string[],
    isBoot: Boolean(d.is_boot),
    uuid: (d.uuid as string | null) ?? null,
    filesystemGroupId: d.filesystem_group_id === null ? null : num(d.filesystem_group_id),
  };
}

export async function loadOne(manager: EntityManager, machineId: number): Promise<MachineStorage> {
  return (await loadStorage(manager, [machineId])).get(machineId)!;
}

export interface ReportedDisk {
  name: string;
  size: number;
  serial: string;
  model: string;
  idPath: string;
  blockSize: number;
}

/**
 * Commissioning's physical devices, as MAAS's update_node_physical_block_devices: a disk seen
 * before (same model + serial, else same id_path, else same name) keeps its id, tags and boot
 * flag; a disk no longer reported goes, with everything on it.
 */
export async function syncPhysicalDevices(
  manager: EntityManager,
  machineId: number,
  disks: ReportedDisk[],
): Promise<void> {
  // Only the physical devices: the rest of the machine's storage (loadOne's five more queries) is not asked.
  const existing = (
    (await manager.query(
      `SELECT * FROM storage_block_devices WHERE machine_id = $1 AND type = 'physical' ORDER BY id`,
      [machineId],
    )) as Row[]
  ).map(deviceOf);
  const kept = new Set<number>();
  const matches = (d: StoredBlockDevice, r: ReportedDisk) =>
    r.serial && d.serial
      ? d.serial === r.serial && d.model === r.model
      : r.idPath && d.idPath
        ? d.idPath === r.idPath
        : d.name === r.name;
  const pending: Array<[StoredBlockDevice | undefined, ReportedDisk]> = disks.map((r) => {
    const same = existing.find((d) => !kept.has(d.id) && matches(d, r));
    if (same) kept.add(same.id);
    return [same, r];
  });
  // Gone first (their names may be reused), then renamed ones park on a temporary name. A first
  // report (nothing stored yet) has neither.
  if (existing.some((d) => !kept.has(d.id)))
    await manager.query(
      `DELETE FROM storage_block_devices WHERE machine_id = $1 AND type = 'physical' AND NOT (id = ANY($2::int[]))`,
      [machineId, [...kept]],
    );
  if (kept.size > 0)
    await manager.query(`UPDATE storage_block_devices SET name = 'renaming-' || id WHERE id = ANY($1::int[])`, [
      [...kept],
    ]);
  for (const [same, r] of pending) {
    const values = [r.name, `/dev/disk/by-dname/${r.name}`, r.model, r.serial, r.idPath, r.size, r.blockSize];
    if (same)
      await manager.query(
        `UPDATE storage_block_devices SET name = $2, path = $3, model = $4, serial = $5, id_path = $6, size = $7, block_size = $8 WHERE id = $1`,
        [same.id, ...values],
      );
    else
      await manager.query(
        `INSERT INTO storage_block_devices (machine_id, type, name, path, model, serial, id_path, size, block_size)
         VALUES ($1, 'physical', $2, $3, $4, $5, $6, $7, $8)`,
        [machineId, ...values],
      );
  }
}

/** MAAS's _clear_full_storage_configuration: physical devices stay, everything on them goes. */
export async function clearConfiguration(manager: EntityManager, machineId: number): Promise<void> {
  await manager.query(`DELETE FROM storage_filesystem_groups WHERE machine_id = $1`, [machineId]);
  await manager.query(`DELETE FROM storage_filesystems WHERE machine_id = $1`, [machineId]);
  await manager.query(
    `DELETE FROM storage_partition_tables WHERE block_device_id IN (SELECT id FROM storage_block_devices WHERE machine_id = $1)`,
    [machineId],
  );
}

export async function insertFilesystem(
  manager: EntityManager,
  machineId: number,
  on: { blockDeviceId: number } | { partitionId: number },
  fs: {
    fstype: string;
    label?: string;
    uuid?: string;
    mountPoint?: string | null;
    mountOptions?: string | null;
    groupId?: number;
  },
): Promise<number> {
  const rows: Array<{ id: number }> = await manager.query(
    `INSERT INTO storage_filesystems (machine_id, block_device_id, partition_id, fstype, label, uuid, mount_point, mount_options, filesystem_group_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      machineId,
      'blockDeviceId' in on ? on.blockDeviceId : null,
      'partitionId' in on ? on.partitionId : null,
      fs.fstype,
      fs.label ?? '',
      fs.uuid ?? randomUUID(),
      fs.mountPoint ?? null,
      fs.mountOptions ?? null,
      fs.groupId ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function ensurePartitionTable(manager: EntityManager, deviceId: number): Promise<number> {
  const rows: Array<{ id: number }> = await manager.query(
    `INSERT INTO storage_partition_tables (block_device_id) VALUES ($1)
     ON CONFLICT (block_device_id) DO UPDATE SET table_type = storage_partition_tables.table_type RETURNING id`,
    [deviceId],
  );
  return rows[0]!.id;
}

export async function insertPartition(
  manager: EntityManager,
  tableId: number,
  p: { size: number; bootable: boolean; uuid?: string },
): Promise<number> {
  const rows: Array<{ id: number }> = await manager.query(
    `INSERT INTO storage_partitions (partition_table_id, index, uuid, size, bootable)
     VALUES ($1, (SELECT COALESCE(max(index), 0) + 1 FROM storage_partitions WHERE partition_table_id = $1), $2, $3, $4)
     RETURNING id`,
    [tableId, p.uuid ?? randomUUID(), p.size, p.bootable],
  );
  return rows[0]!.id;
}

export async function insertGroup(
  manager: EntityManager,
  machineId: number,
  name: string,
  groupType: string,
  uuid?: string,
): Promise<number> {
  const rows: Array<{ id: number }> = await manager.query(
    `INSERT INTO storage_filesystem_groups (machine_id, name, group_type, uuid) VALUES ($1, $2, $3, $4) RETURNING id`,
    [machineId, name, groupType, uuid ?? randomUUID()],
  );
  return rows[0]!.id;
}

export async function insertVirtualDevice(
  manager: EntityManager,
  machineId: number,
  groupId: number,
  d: { name: string; size: number; path: string; uuid?: string },
): Promise<number> {
  const rows: Array<{ id: number }> = await manager.query(
    `INSERT INTO storage_block_devices (machine_id, type, name, path, size, block_size, uuid, filesystem_group_id)
     VALUES ($1, 'virtual', $2, $3, $4, 4096, $5, $6) RETURNING id`,
    [machineId, d.name, d.path, d.size, d.uuid ?? randomUUID(), groupId],
  );
  return rows[0]!.id;
}

/** Writes a layout plan onto a cleared configuration. */
export async function writePlan(
  manager: EntityManager,
  machineId: number,
  plan: LayoutPlan,
  vgSize: (pvSize: number) => number,
): Promise<void> {
  const fsOf = (f: PlannedFilesystem) => ({ fstype: f.fstype, label: f.label, mountPoint: f.mountPoint });
  let pv: { partitionId: number; size: number } | undefined;
  for (const t of plan.tables) {
    const tableId = await ensurePartitionTable(manager, t.deviceId);
    for (const p of t.partitions) {
      const partitionId = await insertPartition(manager, tableId, p);
      if (p.use === 'lvm-pv') pv = { partitionId, size: p.size };
      else await insertFilesystem(manager, machineId, { partitionId }, fsOf(p.use));
    }
  }
  if (!plan.volumeGroup || !pv) return;
  const vg = plan.volumeGroup;
  const groupId = await insertGroup(manager, machineId, vg.name, 'lvm-vg');
  await insertFilesystem(manager, machineId, { partitionId: pv.partitionId }, { fstype: 'lvm-pv', groupId });
  const size = vg.lv.size === 'all' ? vgSize(pv.size) : vg.lv.size;
  const lvId = await insertVirtualDevice(manager, machineId, groupId, {
    name: `${vg.name}-${vg.lv.name}`,
    path: `/dev/disk/by-dname/${vg.name}-${vg.lv.name}`,
    size,
  });
  await insertFilesystem(manager, machineId, { blockDeviceId: lvId }, fsOf(vg.lv.fs));
}
