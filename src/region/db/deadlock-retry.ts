// PostgreSQL breaks a deadlock by failing one of the transactions in it (SQLSTATE 40P01); the
// victim wrote nothing. An allocation waits for machines in best-fit order, so no common lock
// order rules cycles out: a change that locks several machines (a rack's power report, in id
// order; a zone's, user's or group's deletion, a rack's removal or registration, in scan order)
// can wait on one. The allocation and those changes run again instead of answering 500 for a
// race the caller had no part in. Only database work is retried: nothing in it acts outside
// PostgreSQL.
import type { DataSource, EntityManager } from 'typeorm';
import { errorChain } from '../error-chain';

const DEADLOCK_DETECTED = '40P01';
/** A cycle needs other transactions that still hold their locks; it rarely forms twice in a row. */
const ATTEMPTS = 3;

function isDeadlock(err: unknown): boolean {
  for (const e of errorChain(err)) if (e.code === DEADLOCK_DETECTED) return true;
  return false;
}

/** `work` run again (whole, from a fresh transaction) when PostgreSQL chose it as a deadlock's victim. */
export async function retryingDeadlocks<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isDeadlock(err)) throw err;
    }
  }
}

/** A transaction run again when it was a deadlock's victim. */
export function transactionRetryingDeadlocks<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  return retryingDeadlocks(() => db.transaction(work));
}
