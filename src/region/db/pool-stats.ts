// How a DataSource's pg pool is used right now (the region's /metrics): connections open, idle,
// and callers waiting for one. TypeORM keeps the pool on its Postgres driver as `master`.
import type { DataSource } from 'typeorm';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

export function poolStats(db: DataSource): PoolStats | undefined {
  const pool = (db.driver as unknown as { master?: PgPool }).master;
  if (!db.isInitialized || !pool) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
