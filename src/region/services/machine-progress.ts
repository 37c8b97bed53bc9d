// How a machine's progress reports reach its workflow (issue 17, leaner-history): a workflow that
// claims the machine quietly is not signalled each progress report; the region keeps the last
// one's time here, and the workflow reads its age when its deadline comes. The one owner of the
// `machine_progress` table (migration 0052).
import type { EntityManager } from 'typeorm';
import { startOwedSql } from './workflow-starts';

/** The claim's word (beginTransition): rewritten only when it changes. */
export async function setQuietProgress(tx: EntityManager, machineId: number, quiet: boolean): Promise<void> {
  await tx.query(
    `INSERT INTO machine_progress (machine_id, quiet) VALUES ($1, $2)
     ON CONFLICT (machine_id) DO UPDATE SET quiet = EXCLUDED.quiet
      WHERE machine_progress.quiet IS DISTINCT FROM EXCLUDED.quiet`,
    [machineId, quiet],
  );
}

/**
 * Keep a progress report's time for a quiet workflow; false (nothing kept: signal it) when the
 * machine's workflow is not quiet, or its start is still owed (the report makes it).
 */
export async function keepProgressReport(tx: EntityManager, systemId: string): Promise<boolean> {
  // A SELECT over the UPDATE: TypeORM answers a bare UPDATE with [rows, count], not the rows.
  // clock_timestamp(), not now(): the report's time, not its transaction's start.
  const kept: unknown[] = await tx.query(
    `WITH kept AS (
       UPDATE machine_progress p SET last_report_at = clock_timestamp()
         FROM machines m
        WHERE m.system_id = $1 AND p.machine_id = m.id AND p.quiet AND NOT ${startOwedSql('m')}
        RETURNING p.machine_id)
     SELECT machine_id FROM kept`,
    [systemId],
  );
  return kept.length > 0;
}

/**
 * How long ago (ms, by the database's own clock: callers place it on theirs, so the clocks need
 * not agree) the region kept the machine's last progress report for a quiet workflow; null when
 * it kept none.
 */
export async function lastReportAge(
  manager: EntityManager,
  machine: { systemId: string } | { id: number },
): Promise<number | null> {
  const [where, key] = 'id' in machine ? ['m.id = $1', machine.id] : ['m.system_id = $1', machine.systemId];
  const rows: Array<{ age: number | null }> = await manager.query(
    `SELECT (extract(epoch FROM clock_timestamp() - p.last_report_at) * 1000)::float8 AS age
       FROM machine_progress p JOIN machines m ON m.id = p.machine_id WHERE ${where} AND p.quiet`,
    [key],
  );
  const age = rows[0]?.age ?? null;
  return age === null ? null : Math.max(0, age);
}
