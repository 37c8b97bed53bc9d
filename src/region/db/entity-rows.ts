// An entity read by plain SQL whose column list is built once per entity and alias. TypeORM's
// query builder builds its SQL and walks the entity's metadata anew on every call: on a
// commissioning's hot path (the machine's row lock, its power config and boot config, the
// metadata server's token) that was about a third of the API's CPU (bench/results/
// commission-profile.md, session 14). Rows are hydrated as TypeORM's own reads hydrate them: the
// driver's prepareHydratedValue per column. Entities with relations are not for this (none has one).
import type { DataSource, EntityManager, EntityMetadata, EntitySchema, ObjectLiteral } from 'typeorm';

type Db = DataSource | EntityManager;

/** `alias."column" AS "prefix column"` for every column, by entity, alias and prefix. */
const selectLists = new WeakMap<EntityMetadata, Map<string, string>>();

function metadataOf<T extends ObjectLiteral>(db: Db, target: EntitySchema<T>): EntityMetadata {
  const connection = 'connection' in db ? db.connection : db;
  return connection.getMetadata(target);
}

/** The select list of every column of `target` under `alias`, each named `<prefix><column>`. */
export function columnsOf<T extends ObjectLiteral>(
  db: Db,
  target: EntitySchema<T>,
  alias: string,
  prefix = '',
): string {
  const metadata = metadataOf(db, target);
  let lists = selectLists.get(metadata);
  if (!lists) selectLists.set(metadata, (lists = new Map()));
  const key = `${alias}\0${prefix}`;
  let list = lists.get(key);
  if (list === undefined) {
    if (metadata.relations.length > 0) throw new Error(`${metadata.name} has relations: read it through TypeORM`);
    list = metadata.columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.databaseName}"`).join(', ');
    lists.set(key, list);
  }
  return list;
}

/** The entity in `row`, whose columns columnsOf named with `prefix`. */
export function hydrate<T extends ObjectLiteral>(db: Db, target: EntitySchema<T>, row: ObjectLiteral, prefix = ''): T {
  const metadata = metadataOf(db, target);
  const driver = ('connection' in db ? db.connection : db).driver;
  const entity = metadata.create() as T;
  for (const column of metadata.columns) {
    const value: unknown = row[`${prefix}${column.databaseName}`];
    if (value === undefined) continue;
    column.setEntityValue(entity, driver.prepareHydratedValue(value, column));
  }
  return entity;
}

/**
 * The one row of `target` that `where` (SQL on alias `t`, `$n` parameters) picks, or null;
 * `lock`: the row lock to take (in a transaction's manager).
 */
export async function selectOne<T extends ObjectLiteral>(
  db: Db,
  target: EntitySchema<T>,
  where: string,
  params: unknown[],
  lock?: 'FOR NO KEY UPDATE',
): Promise<T | null> {
  const table = metadataOf(db, target).tableName;
  const rows: ObjectLiteral[] = await db.query(
    `SELECT ${columnsOf(db, target, 't')} FROM "${table}" t WHERE ${where} LIMIT 1${lock ? ` ${lock}` : ''}`,
    params,
  );
  return rows[0] ? hydrate(db, target, rows[0]) : null;
}

/**
 * TypeORM's `update(criteria, patch)` for the rows `where` (SQL on alias `t`, parameters
 * `whereParams`) picks: each property the patch has (undefined ones skipped, null sets NULL),
 * stored as TypeORM stores it (the driver's preparePersistentValue), and the update date column
 * set to now as TypeORM sets it.
 */
export async function updateRows<T extends ObjectLiteral>(
  db: Db,
  target: EntitySchema<T>,
  patch: Partial<T>,
  where: string,
  whereParams: unknown[],
): Promise<void> {
  const metadata = metadataOf(db, target);
  const driver = ('connection' in db ? db.connection : db).driver;
  const params = [...whereParams];
  const sets: string[] = [];
  for (const [property, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const column = metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`${metadata.name} has no column ${property}`);
    params.push(driver.preparePersistentValue(value, column));
    sets.push(`"${column.databaseName}" = $${params.length}`);
  }
  const updateDate = metadata.updateDateColumn;
  if (updateDate && patch[updateDate.propertyName as keyof T] === undefined)
    sets.push(`"${updateDate.databaseName}" = CURRENT_TIMESTAMP`);
  if (sets.length === 0) return;
  await db.query(`UPDATE "${metadata.tableName}" t SET ${sets.join(', ')} WHERE ${where}`, params);
}
