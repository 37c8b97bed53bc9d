// PostgreSQL going away (a stop, a restart, a cut network) between two statements of a
// transaction: pg reports it on the connection, TypeORM answers by releasing the transaction's
// query runner, and the transaction's next statement fails with TypeORM's "already released",
// which names nothing of the cause. The API's error boundary (region/outages.ts) would call that
// a bug and answer 500. A transaction watched here fails instead with an error that says the
// connection was lost, pg's error as its cause: the boundary's 503 for a database outage.
import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError, type DataSource } from 'typeorm';
import type { EntityManager, QueryRunner } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

export class DatabaseConnectionLost extends Error {
  constructor(lost: unknown) {
    super('The database connection was lost in the middle of a transaction or read; nothing of it was committed.', {
      cause: lost,
    });
    this.name = 'DatabaseConnectionLost';
  }
}

interface ErrorEmitter {
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeListener(event: 'error', fn: (err: Error) => void): unknown;
}

/**
 * Runs `work` on `runner`'s connection, watching it: a "released" error after pg reported the
 * connection lost becomes DatabaseConnectionLost. The caller releases the runner.
 */
export async function watchingConnection<T>(runner: QueryRunner, work: () => Promise<T>): Promise<T> {
  const connection = (await runner.connect()) as ErrorEmitter;
  let lost: Error | undefined;
  const onError = (err: Error) => (lost ??= err);
  connection.on('error', onError);
  try {
    return await work();
  } catch (err) {
    const released =
      err instanceof QueryRunnerProviderAlreadyReleasedError || err instanceof QueryRunnerAlreadyReleasedError;
    throw lost && released ? new DatabaseConnectionLost(lost) : err;
  } finally {
    connection.removeListener('error', onError);
  }
}

type Work<T> = (manager: EntityManager) => Promise<T>;

/** `ds.transaction` from now on runs each transaction on a watched connection (its overloads kept). */
export function watchTransactions(ds: DataSource): DataSource {
  async function transaction<T>(levelOrWork: IsolationLevel | Work<T>, maybeWork?: Work<T>): Promise<T> {
    const runner = ds.createQueryRunner();
    try {
      return await watchingConnection(runner, () =>
        typeof levelOrWork === 'function'
          ? runner.manager.transaction(levelOrWork)
          : runner.manager.transaction(levelOrWork, maybeWork!),
      );
    } finally {
      await runner.release();
    }
  }
  ds.transaction = transaction as DataSource['transaction'];
  return ds;
}
