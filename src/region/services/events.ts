import type { EntityManager } from 'typeorm';
import type { EventInput } from '../../contracts/activities';

/**
 * Per-machine events. A dedupe key makes recording idempotent (activities are retried); the answer
 * says whether this call recorded it (false: its key was already there).
 */
export async function recordEvent(
  manager: EntityManager,
  machineId: number,
  e: Omit<EventInput, 'systemId' | 'dedupeKey'> & {
    dedupeKey?: string;
    claimToken?: string | null;
    reportDigest?: string;
  },
): Promise<boolean> {
  const inserted: unknown[] = await manager.query(
    `INSERT INTO events (machine_id, type, description, level, dedupe_key, claim_token, report_digest)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [machineId, e.type, e.description, e.level, e.dedupeKey ?? null, e.claimToken ?? null, e.reportDigest ?? null],
  );
  return inserted.length > 0;
}
