// PostgreSQL gone between two statements of a transaction (here: its backend terminated, as a
// stop or restart does to every backend). The transaction fails as a database outage, which the
// API answers with 503, not with TypeORM's "already released" (a 500).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource, EntityManager } from 'typeorm';
import { withCancellableConnection } from '../../src/region/db/cancellable';
import { openDatabase } from '../../src/region/db/data-source';
import { dependencyOutage } from '../../src/region/outages';
import { freshDatabase } from '../helpers/infra';

describe('a transaction whose connection is lost', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let db: DataSource;
  before(async () => {
    database = await freshDatabase();
    db = await openDatabase(database.url, { migrate: false, poolSize: 4 });
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  /** Terminates the backend of `tx`'s connection, and waits until TypeORM released it for the loss. */
  const terminate = async (tx: EntityManager) => {
    const [{ pid }] = (await tx.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    await database.db.query('SELECT pg_terminate_backend($1)', [pid]);
    for (const deadline = Date.now() + 10_000; !tx.queryRunner!.isReleased;) {
      assert.ok(Date.now() < deadline, 'pg never told the client its connection was gone');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const outageOf = (err: unknown) => {
    assert.match((err as Error).message, /connection was lost in the middle of a transaction or read/);
    return dependencyOutage(err)?.dependency;
  };

  /** What `run` failed with (a success fails the test). */
  const failureOf = (run: Promise<unknown>) =>
    run.then(
      () => assert.fail('it succeeded'),
      (e: unknown) => e,
    );
  const terminatedBetweenStatements = async (tx: EntityManager) => {
    await terminate(tx);
    await tx.query('SELECT 1');
  };

  it('fails as a database outage, not as a released query runner', async () => {
    assert.equal(outageOf(await failureOf(db.transaction(terminatedBetweenStatements))), 'database');
    // The pool goes on with a fresh connection.
    assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
  });

  it('with an isolation level too', async () => {
    assert.equal(outageOf(await failureOf(db.transaction('SERIALIZABLE', terminatedBetweenStatements))), 'database');
  });

  it("a listing's connection too", async () => {
    const err = await failureOf(withCancellableConnection(db, db, undefined, terminatedBetweenStatements));
    assert.equal(outageOf(err), 'database');
  });

  it('a transaction that commits is as before', async () => {
    assert.deepEqual(await db.transaction(async (tx) => tx.query('SELECT 2 AS two')), [{ two: 2 }]);
  });
});
