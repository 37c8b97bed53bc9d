// Fast, realistic rows straight into the stack's database: users with API tokens, zones, pools,
// tags, a rack, and machines with interfaces, tags, hardware and power details, in a few
// multi-row statements (unnest over arrays) instead of thousands of API calls.
import crypto from 'node:crypto';
import pg from 'pg';
import { MachineStatus as S, type MachineStatus } from '../../src/contracts/lifecycle';
import { newConsumerKey, newTokenKey, newTokenSecret } from '../../src/region/ids';

export type Db = pg.Client;

export async function connect(url: string): Promise<Db> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

export interface SeededUser {
  id: number;
  username: string;
  /** consumer_key:token_key:token_secret */
  apiKey: string;
}

/** Users with one API token each (passwords are never used: an unusable hash). */
export async function createUsers(db: Db, usernames: string[], admin = false): Promise<SeededUser[]> {
  const rows = (
    await db.query(
      `INSERT INTO users (username, email, password_hash, is_superuser)
     SELECT u, u || '@example.com', 'unusable', $2 FROM unnest($1::text[]) AS u RETURNING id, username`,
      [usernames, admin],
    )
  ).rows as Array<{ id: number; username: string }>;
  const tokens = rows.map((r) => ({ ...r, consumer: newConsumerKey(), key: newTokenKey(), secret: newTokenSecret() }));
  await db.query(
    `INSERT INTO api_tokens (user_id, name, consumer_key, token_key, token_secret)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])`,
    [
      tokens.map((t) => t.id),
      tokens.map(() => 'bench'),
      tokens.map((t) => t.consumer),
      tokens.map((t) => t.key),
      tokens.map((t) => t.secret),
    ],
  );
  return tokens.map((t) => ({ id: t.id, username: t.username, apiKey: `${t.consumer}:${t.key}:${t.secret}` }));
}

/** Named rows in zones / resource_pools / tags; returns name → id, including existing ones. */
export async function ensureNamed(
  db: Db,
  table: 'zones' | 'resource_pools' | 'tags',
  names: string[],
): Promise<Map<string, number>> {
  await db.query(`INSERT INTO ${table} (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`, [names]);
  const rows = (await db.query(`SELECT id, name FROM ${table} WHERE name = ANY($1::text[])`, [names])).rows as Array<{
    id: number;
    name: string;
  }>;
  return new Map(rows.map((r) => [r.name, r.id]));
}

export async function createRack(db: Db, name: string): Promise<number> {
  const r = await db.query(`INSERT INTO racks (system_id, name, version) VALUES ($1, $2, 'bench') RETURNING id`, [
    systemIds(1)[0],
    name,
  ]);
  return (r.rows[0] as { id: number }).id;
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxy3468';
/** `n` distinct MAAS-style system_ids. */
export function systemIds(n: number): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    const bytes = crypto.randomBytes(6);
    out.add([...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join(''));
  }
  return [...out];
}

/** A locally administered MAC unique per (machine index, nic). */
export function macFor(index: number, nic: number, prefix = 0x52): string {
  const n = index * 4 + nic;
  return [prefix, 0x54, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

export interface MachineSpec {
  hostname: string;
  status: MachineStatus;
  ownerId: number | null;
  zoneId: number;
  poolId: number;
  rackId: number | null;
  tagIds: number[];
  /** Index for MACs and serials: unique within the database. */
  index: number;
  nics?: number;
}

const COMMISSIONED: MachineStatus[] = [
  S.READY,
  S.ALLOCATED,
  S.DEPLOYED,
  S.DEPLOYING,
  S.BROKEN,
  S.FAILED_DEPLOYMENT,
  S.RELEASING,
];
const HAS_OS: MachineStatus[] = [S.DEPLOYED, S.DEPLOYING, S.FAILED_DEPLOYMENT];

/** Inserts machines with their interfaces and tags; returns their system_ids in order. */
export async function insertMachines(db: Db, specs: MachineSpec[]): Promise<string[]> {
  const ids = systemIds(specs.length);
  const cols = {
    system_id: [] as string[],
    hostname: [] as string[],
    architecture: [] as string[],
    cpu_count: [] as number[],
    cpu_speed: [] as number[],
    memory: [] as number[],
    storage: [] as number[],
    status: [] as number[],
    previous_status: [] as number[],
    owner_id: [] as Array<number | null>,
    power_type: [] as string[],
    power_parameters: [] as string[],
    power_state: [] as string[],
    zone_id: [] as number[],
    pool_id: [] as number[],
    rack_id: [] as Array<number | null>,
    boot_purpose: [] as string[],
    osystem: [] as string[],
    distro_series: [] as string[],
    hardware_info: [] as string[],
    block_devices: [] as string[],
    commissioning_passed: [] as boolean[],
    workload_annotations: [] as string[],
    description: [] as string[],
  };
  specs.forEach((s, k) => {
    const commissioned = COMMISSIONED.includes(s.status);
    const deployed = HAS_OS.includes(s.status);
    const cpus = [8, 16, 32, 48, 64][s.index % 5]!;
    const memory = [32768, 65536, 131072, 262144][s.index % 4]!;
    const serial = `BENCH${String(s.index).padStart(7, '0')}`;
    const disks = commissioned
      ? [
          { name: 'sda', size: 480_103_981_056, serial: `${serial}-D0`, model: 'SAMSUNG MZ7LH480', path: '/dev/sda' },
          {
            name: 'nvme0n1',
            size: 3_840_755_982_336,
            serial: `${serial}-D1`,
            model: 'INTEL SSDPE2KX040T8',
            path: '/dev/nvme0n1',
          },
        ]
      : [];
    cols.system_id.push(ids[k]!);
    cols.hostname.push(s.hostname);
    cols.architecture.push('amd64/generic');
    cols.cpu_count.push(commissioned ? cpus : 0);
    cols.cpu_speed.push(commissioned ? 2400 : 0);
    cols.memory.push(commissioned ? memory : 0);
    cols.storage.push(disks.reduce((sum, d) => sum + d.size, 0) / 1_000_000);
    cols.status.push(s.status);
    cols.previous_status.push(s.status === S.READY ? S.COMMISSIONING : S.READY);
    cols.owner_id.push(s.ownerId);
    cols.power_type.push('ipmi');
    cols.power_parameters.push(
      JSON.stringify({
        power_driver: 'LAN_2_0',
        power_boot_type: 'auto',
        power_address: `10.${(s.index >> 16) & 255}.${(s.index >> 8) & 255}.${s.index & 255}`,
        power_user: 'maas',
        cipher_suite_id: '3',
        privilege_level: 'OPERATOR',
        workaround_flags: '',
        mac_address: '',
      }),
    );
    cols.power_state.push(deployed ? 'on' : 'off');
    cols.zone_id.push(s.zoneId);
    cols.pool_id.push(s.poolId);
    cols.rack_id.push(s.rackId);
    cols.boot_purpose.push(deployed ? 'local' : 'poweroff');
    cols.osystem.push(deployed ? 'ubuntu' : '');
    cols.distro_series.push(deployed ? 'jammy' : '');
    cols.hardware_info.push(
      JSON.stringify(
        commissioned
          ? {
              cpu_model: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz',
              system_vendor: 'Dell Inc.',
              system_product: 'PowerEdge R640',
              system_serial: serial,
              system_uuid: crypto.randomUUID(),
            }
          : {},
      ),
    );
    cols.block_devices.push(JSON.stringify(disks));
    cols.commissioning_passed.push(commissioned);
    cols.workload_annotations.push(
      JSON.stringify(deployed ? { app: ['web', 'db', 'cache', 'batch'][s.index % 4]!, env: 'prod' } : {}),
    );
    cols.description.push(s.index % 10 === 0 ? `bench machine ${s.index}` : '');
  });
  const rows = (
    await db.query(
      `INSERT INTO machines (system_id, hostname, architecture, cpu_count, cpu_speed, memory, storage, status, previous_status, owner_id,
                           power_type, power_parameters, power_state, zone_id, pool_id, rack_id, boot_purpose, osystem, distro_series,
                           hardware_info, block_devices, commissioning_passed, workload_annotations, description)
     SELECT system_id, hostname, architecture, cpu_count, cpu_speed, memory, storage, status, previous_status, owner_id,
            power_type, power_parameters::jsonb, power_state, zone_id, pool_id, rack_id, boot_purpose, osystem, distro_series,
            hardware_info::jsonb, block_devices::jsonb, commissioning_passed, workload_annotations::jsonb, description
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::float8[], $8::smallint[], $9::smallint[], $10::int[],
                   $11::text[], $12::text[], $13::text[], $14::int[], $15::int[], $16::int[], $17::text[], $18::text[], $19::text[],
                   $20::text[], $21::text[], $22::bool[], $23::text[], $24::text[])
         AS t(system_id, hostname, architecture, cpu_count, cpu_speed, memory, storage, status, previous_status, owner_id,
              power_type, power_parameters, power_state, zone_id, pool_id, rack_id, boot_purpose, osystem, distro_series,
              hardware_info, block_devices, commissioning_passed, workload_annotations, description)
     RETURNING id, system_id`,
      Object.values(cols),
    )
  ).rows as Array<{ id: number; system_id: string }>;
  const idBySystemId = new Map(rows.map((r) => [r.system_id, r.id]));
  const machineIds = ids.map((sid) => idBySystemId.get(sid)!);

  const nic = { machine: [] as number[], name: [] as string[], mac: [] as string[], boot: [] as boolean[] };
  const tag = { machine: [] as number[], tag: [] as number[] };
  specs.forEach((s, k) => {
    const id = machineIds[k]!;
    for (let n = 0; n < (s.nics ?? 2); n++) {
      nic.machine.push(id);
      nic.name.push(n === 0 ? 'eno1' : `eno${n + 1}`);
      nic.mac.push(macFor(s.index, n));
      nic.boot.push(n === 0);
    }
    for (const t of s.tagIds) {
      tag.machine.push(id);
      tag.tag.push(t);
    }
  });
  await db.query(
    `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot)
     SELECT m, n, 'physical', mac, true, 10000, b FROM unnest($1::int[], $2::text[], $3::macaddr[], $4::bool[]) AS t(m, n, mac, b)`,
    [nic.machine, nic.name, nic.mac, nic.boot],
  );
  if (tag.machine.length) {
    await db.query(`INSERT INTO machine_tags (machine_id, tag_id) SELECT * FROM unnest($1::int[], $2::int[])`, [
      tag.machine,
      tag.tag,
    ]);
  }
  // A "Machine created" event each, as the API would have left.
  await db.query(
    `INSERT INTO events (machine_id, type, description) SELECT unnest($1::int[]), 'New', 'Machine created.'`,
    [machineIds],
  );
  await db.query('ANALYZE');
  return ids;
}
