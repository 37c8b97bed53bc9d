// The region's pool prepares the statements that repeat (src/region/db/prepared-statements.ts),
// checked on a real PostgreSQL through pg_prepared_statements of the connection that ran them:
// a text is prepared from its second run with parameters, a one-off or a `*` select never is,
// a statement whose result type changed under it fails once and then runs unnamed, a value pg
// cannot send fails only its own call, generic plans are the main pool's (the URL's startup
// options kept), and `preparedStatements: false` prepares nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { openDatabase } from '../../src/region/db/data-source';
import { selectsStar, StatementNames } from '../../src/region/db/prepared-statements';
import { freshDatabase } from '../helpers/infra';

describe('prepared statements', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let runner: QueryRunner;

  before(async () => {
    database = await freshDatabase();
    await database.db.query('CREATE TABLE prep_probe (id int PRIMARY KEY, v int NOT NULL)');
    await database.db.query('INSERT INTO prep_probe SELECT g, g * 10 FROM generate_series(1, 5) g');
    runner = database.db.createQueryRunner();
    await runner.connect();
  });
  after(async () => {
    await runner?.release();
    await database?.drop();
  });

  /** The texts prepared on the runner's connection. */
  const prepared = async (r: QueryRunner = runner): Promise<string[]> =>
    ((await r.query('SELECT statement FROM pg_prepared_statements')) as { statement: string }[]).map(
      (row) => row.statement,
    );

  it('prepares a text with parameters from its second run, and answers the same', async () => {
    const text = 'SELECT v FROM prep_probe WHERE id = $1';
    assert.deepEqual(await runner.query(text, [2]), [{ v: 20 }]);
    assert.ok(!(await prepared()).includes(text), 'one run: not prepared');
    assert.deepEqual(await runner.query(text, [3]), [{ v: 30 }]);
    assert.ok((await prepared()).includes(text), 'two runs: prepared');
    assert.deepEqual(await runner.query(text, [4]), [{ v: 40 }]);
    assert.equal((await prepared()).filter((s) => s === text).length, 1, 'prepared once');
  });

  it('never prepares a text without parameters, a one-off, or one whose columns are *', async () => {
    const noParameters = 'SELECT count(*)::int AS n FROM prep_probe';
    const star = 'SELECT * FROM prep_probe WHERE id = $1';
    const qualifiedStar = 'SELECT p.* FROM prep_probe p WHERE p.id = $1';
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await runner.query(noParameters), [{ n: 5 }]);
      assert.deepEqual(await runner.query(star, [1]), [{ id: 1, v: 10 }]);
      assert.deepEqual(await runner.query(qualifiedStar, [1]), [{ id: 1, v: 10 }]);
    }
    await runner.query('SELECT v FROM prep_probe WHERE id = $1 AND v > $2', [1, 0]);
    const texts = await prepared();
    for (const t of [noParameters, star, qualifiedStar, 'SELECT v FROM prep_probe WHERE id = $1 AND v > $2'])
      assert.ok(!texts.includes(t), `not prepared: ${t}`);
  });

  it('a statement whose result type changed under it fails once, then runs unnamed', async () => {
    const text = 'SELECT v FROM prep_probe WHERE id = $1 AND $2::int = 1';
    await runner.query(text, [1, 1]);
    await runner.query(text, [1, 1]);
    assert.ok((await prepared()).includes(text));
    // A migration from another region process, while this one runs.
    await database.db.query('ALTER TABLE prep_probe ALTER COLUMN v TYPE bigint');
    await assert.rejects(runner.query(text, [1, 1]), /cached plan must not change result type/);
    assert.deepEqual(await runner.query(text, [1, 1]), [{ v: '10' }]);
    assert.deepEqual(await runner.query(text, [2, 1]), [{ v: '20' }]);
  });

  it('a value pg cannot send fails its own call only', async () => {
    const text = "SELECT $1::jsonb ->> 'a' AS a";
    assert.deepEqual(await runner.query(text, [{ a: 1 }]), [{ a: '1' }]);
    assert.deepEqual(await runner.query(text, [{ a: 2 }]), [{ a: '2' }]);
    assert.ok((await prepared()).includes(text));
    // JSON.stringify refuses a BigInt: pg closes the statement it had prepared.
    await assert.rejects(runner.query(text, [{ a: 3n }]), /BigInt/);
    assert.deepEqual(await runner.query(text, [{ a: 4 }]), [{ a: '4' }]);
    assert.deepEqual(await runner.query(text, [{ a: 5 }]), [{ a: '5' }]);
  });

  it('a statement the server has but pg forgot fails once, then is used', async () => {
    const text = 'SELECT v FROM prep_probe WHERE id = $1 AND $2::int = 2';
    await runner.query(text, [1, 2]);
    await runner.query(text, [1, 2]);
    const client = (runner as unknown as { databaseConnection: { connection: { parsedStatements: object } } })
      .databaseConnection;
    client.connection.parsedStatements = {};
    await assert.rejects(runner.query(text, [1, 2]), /already exists/);
    // v is bigint since the result-type test above: pg gives it as a string.
    assert.deepEqual(await runner.query(text, [3, 2]), [{ v: '30' }]);
    assert.deepEqual(await runner.query(text, [4, 2]), [{ v: '40' }]);
  });

  it("answers pg's callback form the same way", async () => {
    const client = (runner as unknown as { databaseConnection: pg.Client }).databaseConnection;
    const text = 'SELECT v FROM prep_probe WHERE id = $1 AND $2::int = 3';
    const viaCallback = (values: unknown[]) =>
      new Promise<unknown>((resolve, reject) =>
        client.query(text, values, (err: Error | null, result?: { rows: unknown[] }) =>
          err ? reject(err) : resolve(result!.rows),
        ),
      );
    assert.deepEqual(await viaCallback([5, 3]), [{ v: '50' }]);
    assert.deepEqual(await viaCallback([2, 3]), [{ v: '20' }]);
    assert.ok((await prepared()).includes(text), 'prepared through the callback form');
    await assert.rejects(viaCallback(['x', 3]), /invalid input syntax/);
  });

  it('keeps the URL startup options beside the generic plans, and the listing pool plans per call', async () => {
    const url = new URL(database.url);
    url.searchParams.set('options', '-c work_mem=7MB');
    const pools: DataSource[] = [];
    try {
      const main = await openDatabase(url.toString(), { migrate: false, poolSize: 1 });
      pools.push(main);
      assert.deepEqual(await main.query('SHOW work_mem'), [{ work_mem: '7MB' }]);
      assert.deepEqual(await main.query('SHOW plan_cache_mode'), [{ plan_cache_mode: 'force_generic_plan' }]);
      const listing = await openDatabase(database.url, { migrate: false, poolSize: 1, genericPlans: false });
      pools.push(listing);
      assert.deepEqual(await listing.query('SHOW plan_cache_mode'), [{ plan_cache_mode: 'auto' }]);
      const text = 'SELECT id FROM prep_probe WHERE v = $1';
      for (let i = 0; i < 2; i++) await listing.query(text, [10]);
      const rows = (await listing.query('SELECT statement FROM pg_prepared_statements')) as { statement: string }[];
      assert.ok(
        rows.some((r) => r.statement === text),
        'prepared on the listing pool too',
      );
    } finally {
      for (const pool of pools) await pool.destroy();
    }
  });

  it('prepares nothing with preparedStatements: false', async () => {
    let plain: DataSource | undefined;
    try {
      plain = await openDatabase(database.url, { migrate: false, poolSize: 1, preparedStatements: false });
      const r = plain.createQueryRunner();
      await r.connect();
      try {
        for (let i = 0; i < 3; i++) await r.query('SELECT id FROM prep_probe WHERE v = $1', [10]);
        assert.deepEqual(await prepared(r), []);
        assert.deepEqual(await r.query('SHOW plan_cache_mode'), [{ plan_cache_mode: 'auto' }]);
      } finally {
        await r.release();
      }
    } finally {
      await plain?.destroy();
    }
  });

  it('plans a prepared statement once, generically, on the pool', async () => {
    assert.deepEqual(await runner.query('SHOW plan_cache_mode'), [{ plan_cache_mode: 'force_generic_plan' }]);
    const text = 'SELECT id FROM prep_probe WHERE id = ANY($1::int[]) ORDER BY id';
    for (let i = 0; i < 3; i++) assert.deepEqual(await runner.query(text, [[1, 2]]), [{ id: 1 }, { id: 2 }]);
    const [row] = (await runner.query(
      'SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1',
      [text],
    )) as { generic_plans: string; custom_plans: string }[];
    assert.deepEqual(row, { generic_plans: '2', custom_plans: '0' }, 'the second and third runs, prepared');
  });

  it('tells the statements whose own columns are *', () => {
    for (const text of [
      'SELECT * FROM t WHERE id = $1',
      'select t.* from t where id = $1',
      'SELECT t.*, d.machine_id FROM t JOIN d ON d.id = t.d WHERE d.m = $1',
      'SELECT a, t.* FROM t WHERE id = $1',
      'SELECT DISTINCT ON (a) * FROM t WHERE id = $1',
      'WITH x AS (SELECT a FROM t) SELECT * FROM x WHERE a = $1',
      'UPDATE t SET a = $1 RETURNING *',
    ])
      assert.equal(selectsStar(text), true, text);
    for (const text of [
      'SELECT count(*) FROM t WHERE id = $1',
      'SELECT m.id, (SELECT json_agg(x) FROM (SELECT t.*, d.id FROM t JOIN d ON true) x) AS xs FROM m WHERE m.id = $1',
      'WITH x AS (SELECT * FROM t) SELECT a FROM x WHERE a = $1',
      'SELECT a * $1 FROM t',
      'UPDATE t SET a = a * $1 RETURNING a',
    ])
      assert.equal(selectsStar(text), false, text);
  });

  it('keeps its named set and its sightings bounded', () => {
    const names = new StatementNames();
    for (let i = 0; i < 20_000; i++) assert.equal(names.nameOf(`SELECT ${i} WHERE $1`), undefined);
    assert.equal(names.size, 0, 'one-offs are never named');
    assert.ok(names.counting <= 5_000, `${names.counting} texts counted`);
    for (let i = 0; i < 1_200; i++) {
      names.nameOf(`SELECT ${i} FROM t WHERE $1`);
      names.nameOf(`SELECT ${i} FROM t WHERE $1`);
    }
    assert.equal(names.size, 256, 'at most 256 names');
    assert.equal(names.nameOf('SELECT 1 FROM t WHERE $1'), names.nameOf('SELECT 1 FROM t WHERE $1'));
    assert.notEqual(names.nameOf('SELECT 1 FROM t WHERE $1'), names.nameOf('SELECT 2 FROM t WHERE $1'));
  });
});
