// Running a read on one connection of a pool so that it can be cancelled: when the caller's signal
// aborts (its HTTP client went away), PostgreSQL is told to stop the statement at once instead of
// finishing work nobody will read. Without this, a query keeps its backend busy (CPU, memory,
// a pool connection) long after the client gave up.
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { QueryAbandonedError, UnavailableError } from '../errors';
import { watchingConnection } from './lost-connections';

/**
 * Runs `work` on a connection of `pool` held for its whole duration. On abort the running
 * statement is cancelled with pg_cancel_backend through `control` (a different pool: the
 * listing pool may be exhausted), and the connection is closed rather than returned, so a late
 * cancel can never hit the next borrower's statement.
 */
export async function withCancellableConnection<T>(
  pool: DataSource,
  control: DataSource,
  signal: AbortSignal | undefined,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw new QueryAbandonedError('The request went away before its query started.');
  const runner = pool.createQueryRunner() as PostgresQueryRunner;
  let connection: { processID?: number };
  try {
    connection = (await runner.connect()) as { processID?: number };
  } catch (err) {
    await runner.release().catch(() => undefined);
    // pg's connectionTimeoutMillis: every connection of the pool stayed busy for the whole wait.
    if (err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message))
      // The cause stays on it: the region's busy counter (metalflow_db_busy_total) counts it.
      throw new UnavailableError('The database is busy with other listings; try again shortly.', { cause: err });
    throw err;
  }
  if (signal?.aborted) {
    // It left while this waited for a free connection of the pool.
    await runner.release();
    throw new QueryAbandonedError('The request went away before its query started.');
  }
  let cancelling: Promise<unknown> | undefined;
  const cancel = () => {
    const pid = connection.processID;
    cancelling = pid
      ? control.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined)
      : Promise.resolve(undefined);
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    // A connection lost between its statements fails as the outage it is (lost-connections.ts).
    const result = await watchingConnection(runner, () => work(runner.manager));
    if (signal?.aborted) throw new QueryAbandonedError('The request went away while its query ran.');
    return result;
  } catch (err) {
    if (signal?.aborted) throw new QueryAbandonedError('The request went away while its query ran.');
    throw err;
  } finally {
    signal?.removeEventListener('abort', cancel);
    if (cancelling) {
      await cancelling;
      // Released with an error, pg's pool closes the connection instead of reusing it (TypeORM's
      // release() takes no error, so its private twin is called).
      await (runner as unknown as { releasePostgresConnection(err: Error): Promise<void> }).releasePostgresConnection(
        new Error('query cancelled'),
      );
    } else {
      await runner.release();
    }
  }
}
