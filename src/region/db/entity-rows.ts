// Entities read and updated by plain SQL whose column list is built once per entity and alias.
// TypeORM's query builder builds its SQL and walks the entity's metadata anew on every call: on
// a commissioning's hot path (the machine's row lock and status change, the machine views, the
// metadata server's token) TypeORM's own code was about a fifth of the API's CPU
// (bench/results/commission-profile.md, session 14). Rows are hydrated as TypeORM's own reads hydrate them, and
// values stored as its updates store them (the driver's prepareHydratedValue and
// preparePersistentValue per column). What this does not do (relations, version columns,
// columns that are not selected or not updated, SQL-function values) it refuses rather than
// getting wrong: such an entity is read through TypeORM.
import type { DataSource, EntityManager, EntityMetadata, EntitySchema, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

type Db = DataSource | EntityManager;

interface Shape {
  metadata: EntityMetadata;
  /** The columns read and hydrated: TypeORM's selectable, non-virtual ones. */
  columns: ColumnMetadata[];
  /** Select lists by `alias\0prefix`. */
  lists: Map<string, string>;
}

const shapes = new WeakMap<EntitySchema<ObjectLiteral>, WeakMap<DataSource, Shape>>();

function dataSourceOf(db: Db): DataSource {
  return 'dataSource' in db ? db.dataSource : db;
}

function shapeOf<T extends ObjectLiteral>(db: Db, target: EntitySchema<T>): Shape {
  const dataSource = dataSourceOf(db);
  let bySource = shapes.get(target as EntitySchema<ObjectLiteral>);
  if (!bySource) shapes.set(target as EntitySchema<ObjectLiteral>, (bySource = new WeakMap()));
  let shape = bySource.get(dataSource);
  if (!shape) {
    const metadata = dataSource.getMetadata(target);
    if (metadata.relations.length > 0) throw new Error(`${metadata.name} has relations: read it through TypeORM`);
    shape = { metadata, columns: metadata.columns.filter((c) => c.isSelect && !c.isVirtual), lists: new Map() };
    bySource.set(dataSource, shape);
  }
  return shape;
}

/** The select list of `target`'s columns under `alias`, each named `<prefix><column>`. */
export function columnsOf<T extends ObjectLiteral>(
  db: Db,
  target: EntitySchema<T>,
  alias: string,
  prefix = '',
): string {
  const shape = shapeOf(db, target);
  const key = `${alias}\0${prefix}`;
  let list = shape.lists.get(key);
  if (list === undefined) {
    list = shape.columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}${c.databaseName}"`).join(', ');
    shape.lists.set(key, list);
  }
  return list;
}

/** The entity in `row`, whose columns columnsOf named with `prefix`. */
export function hydrate<T extends ObjectLiteral>(db: Db, target: EntitySchema<T>, row: ObjectLiteral, prefix = ''): T {
  const { metadata, columns } = shapeOf(db, target);
  const driver = dataSourceOf(db).driver;
  const entity = metadata.create() as T;
  for (const column of columns) {
    const value: unknown = row[`${prefix}${column.databaseName}`];
    // As TypeORM: a column the row lacks is left out; a NULL is null.
    if (value === undefined) continue;
    column.setEntityValue(entity, driver.prepareHydratedValue(value, column));
  }
  return entity;
}

/**
 * The one row of `target` that `where` (SQL on alias `t`, `$n` parameters) picks, or null.
 * `lock`: the row lock to take, which only a transaction's manager can hold (as TypeORM, which
 * refuses a lock outside one rather than taking it for a single statement).
 */
export async function selectOne<T extends ObjectLiteral>(
  db: Db,
  target: EntitySchema<T>,
  where: string,
  params: unknown[],
  lock?: 'FOR NO KEY UPDATE',
): Promise<T | null> {
  if (lock && !('queryRunner' in db && db.queryRunner?.isTransactionActive))
    throw new Error(`${lock} needs a transaction's manager`);
  const table = shapeOf(db, target).metadata.tableName;
  const rows: ObjectLiteral[] = await db.query(
    `SELECT ${columnsOf(db, target, 't')} FROM "${table}" t WHERE ${where} LIMIT 1${lock ? ` ${lock}` : ''}`,
    params,
  );
  return rows[0] ? hydrate(db, target, rows[0]) : null;
}

/**
 * TypeORM's `update(criteria, patch)` for the rows `where` (SQL on alias `t`, parameters
 * `whereParams`) picks: each property the patch has (undefined ones skipped, null sets NULL),
 * stored as TypeORM stores it, and the update date column set to now unless the patch sets it.
 */
export async function updateRows<T extends ObjectLiteral>(
  db: Db,
  target: EntitySchema<T>,
  patch: Partial<T>,
  where: string,
  whereParams: unknown[],
): Promise<void> {
  const { metadata } = shapeOf(db, target);
  if (metadata.versionColumn) throw new Error(`${metadata.name} has a version column: update it through TypeORM`);
  const driver = dataSourceOf(db).driver;
  const params = [...whereParams];
  const sets: string[] = [];
  for (const [property, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const column = metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`${metadata.name} has no column ${property}`);
    if (!column.isUpdate) throw new Error(`${metadata.name}.${property} is not updatable`);
    // TypeORM writes a function's result into the SQL; this sends values only.
    if (typeof value === 'function') throw new Error(`${metadata.name}.${property}: a SQL function, not a value`);
    params.push(driver.preparePersistentValue(value, column));
    sets.push(`"${column.databaseName}" = $${params.length}`);
  }
  const updateDate = metadata.updateDateColumn;
  if (updateDate && patch[updateDate.propertyName as keyof T] === undefined)
    sets.push(`"${updateDate.databaseName}" = CURRENT_TIMESTAMP`);
  if (sets.length === 0) throw new Error(`${metadata.name}: nothing to update`);
  await db.query(`UPDATE "${metadata.tableName}" t SET ${sets.join(', ')} WHERE ${where}`, params);
}
