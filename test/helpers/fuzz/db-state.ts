// What the fuzzer knows about the database: per-table counters of committed row writes (row
// triggers; a rolled-back write leaves no count) to tell whether a refused request wrote
// anything, a checksum snapshot (row count + md5 per table) to check that a restore is exact, and
// a dump/restore of every table and sequence to put the seeded world back, ids included.
import type { DataSource } from 'typeorm';
import { retryingDeadlocks } from '../../../src/region/db/deadlock-retry';

/** Table name → `count:md5` of its rows in a fixed order. */
export type Snapshot = ReadonlyMap<string, string>;

export interface DatabaseDump {
  /** In foreign-key order: a table comes after the tables it references. */
  tables: Array<{ name: string; rows: string }>;
  sequences: Array<{ name: string; lastValue: string; isCalled: boolean }>;
}

const MIGRATIONS_TABLE = 'migrations';
/** The fuzzer's own table: never dumped, checksummed or counted. */
const COUNTER_TABLE = 'fuzz_writes';

async function tableNames(db: DataSource): Promise<string[]> {
  const rows: Array<{ name: string }> = await db.query(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> ALL($1) ORDER BY 1`,
    [[MIGRATIONS_TABLE, COUNTER_TABLE]],
  );
  return rows.map((r) => r.name);
}

let cachedTables: Promise<string[]> | undefined;

export async function snapshot(db: DataSource): Promise<Snapshot> {
  cachedTables ??= tableNames(db);
  const tables = await cachedTables;
  const rows: Array<{ t: string; n: number; h: string }> = await db.query(
    tables
      .map(
        (t) =>
          `SELECT '${t}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM "${t}" x`,
      )
      .join(' UNION ALL '),
  );
  return new Map(rows.map((r) => [r.t, `${r.n}:${r.h}`]));
}

/** Counts every committed row insert, update and delete of every table from now on. */
export async function installWriteCounter(db: DataSource): Promise<void> {
  await db.query(`CREATE TABLE ${COUNTER_TABLE} (tbl text PRIMARY KEY, n bigint NOT NULL)`);
  await db.query(`CREATE FUNCTION fuzz_count_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${COUNTER_TABLE} VALUES (TG_TABLE_NAME, 1) ON CONFLICT (tbl) DO UPDATE SET n = ${COUNTER_TABLE}.n + 1;
      RETURN NULL;
    END $$`);
  for (const t of await tableNames(db)) {
    await db.query(
      `CREATE TRIGGER fuzz_count_write AFTER INSERT OR UPDATE OR DELETE ON "${t}" FOR EACH ROW EXECUTE FUNCTION fuzz_count_write()`,
    );
  }
}

/** Table name → committed row writes so far (cheap: one small table). */
export async function writeCounts(db: DataSource): Promise<Snapshot> {
  const rows: Array<{ tbl: string; n: string }> = await db.query(`SELECT tbl, n::text FROM ${COUNTER_TABLE}`);
  return new Map(rows.map((r) => [r.tbl, r.n]));
}

/** Tables written between two write counts, with how many row writes. */
export function writtenTables(before: Snapshot, after: Snapshot): string[] {
  return [...after]
    .filter(([t, n]) => before.get(t) !== n)
    .map(([t, n]) => `${t} (${Number(n) - Number(before.get(t) ?? 0)} row writes)`);
}

async function foreignKeyOrder(db: DataSource, tables: string[]): Promise<string[]> {
  const edges: Array<{ child: string; parent: string }> = await db.query(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
       FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid <> c.confrelid`,
  );
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (t: string) => {
    if (ordered.includes(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const e of edges) if (e.child.replace(/"/g, '') === t) visit(e.parent.replace(/"/g, ''));
    ordered.push(t);
  };
  tables.forEach(visit);
  return ordered.filter((t) => tables.includes(t));
}

export async function databaseDump(db: DataSource): Promise<DatabaseDump> {
  const tables = await foreignKeyOrder(db, await tableNames(db));
  const dumped: DatabaseDump['tables'] = [];
  for (const name of tables) {
    const r: Array<{ rows: string }> = await db.query(
      `SELECT coalesce(json_agg(x), '[]'::json)::text AS rows FROM "${name}" x`,
    );
    dumped.push({ name, rows: r[0]!.rows });
  }
  const seqNames: Array<{ name: string }> = await db.query(
    `SELECT sequence_name AS name FROM information_schema.sequences WHERE sequence_schema = 'public'`,
  );
  const sequences: DatabaseDump['sequences'] = [];
  for (const { name } of seqNames) {
    const r: Array<{ last_value: string; is_called: boolean }> = await db.query(
      `SELECT last_value::text, is_called FROM "${name}"`,
    );
    sequences.push({ name, lastValue: r[0]!.last_value, isCalled: r[0]!.is_called });
  }
  return { tables: dumped, sequences };
}

/**
 * One statement list, sent in one round trip: PostgreSQL runs a multi-statement simple query as
 * one transaction, so a restore is all or nothing (and fast enough to run after every write).
 * It runs as a replica session (no triggers, no foreign-key checks while it lasts): the schema
 * has reference cycles (machines' default gateway links → interface_links → interfaces →
 * machines), so no table order restores every row, and the tables the database's own triggers
 * fill (node_hostnames, node_macs) are restored from the dump like the rest instead of refilled.
 */
export function restoreSql(dump: DatabaseDump): string {
  const literal = (text: string) => `$fuzz_dump$${text}$fuzz_dump$`;
  return [
    `SET LOCAL session_replication_role = replica`,
    `TRUNCATE ${dump.tables.map((t) => `"${t.name}"`).join(', ')} CASCADE`,
    ...dump.tables.map(
      (t) =>
        `INSERT INTO "${t.name}" SELECT * FROM json_populate_recordset(NULL::"${t.name}", ${literal(t.rows)}::json)`,
    ),
    ...dump.sequences.map((s) => `SELECT setval('"${s.name}"', ${s.lastValue}, ${s.isCalled})`),
  ].join(';\n');
}

/**
 * A write still under way when the world is restored (a terminated workflow's local activity, the
 * region's own loops) can deadlock with the TRUNCATE's table locks. PostgreSQL then aborts one of
 * the two; when that is the restore, its one transaction is rolled back whole, and it runs again.
 */
export async function restoreDump(db: DataSource, sql: string): Promise<void> {
  await retryingDeadlocks(() => db.query(sql));
}
