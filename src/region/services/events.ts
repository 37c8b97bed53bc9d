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

/** One machine's events as recordMachineEvents takes them. */
export type MachineEventInput = Omit<EventInput, 'systemId'>;

/**
 * The INSERT of `events` (parameters $2–$5) for the machine the `target` CTE yields, in their order,
 * each skipped when its dedupe key is already there: the body of one statement, so the events
 * commit with whatever else it writes, with no transaction around it.
 */
function insertEventsFrom(target: string): string {
  return `INSERT INTO events (machine_id, type, description, level, dedupe_key)
     SELECT ${target}.id, e.type, e.description, e.level, e.dedupe_key
       FROM ${target}, unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(type, description, level, dedupe_key, n)
      ORDER BY e.n
     ON CONFLICT (dedupe_key) DO NOTHING`;
}

const eventColumns = (events: MachineEventInput[]) => [
  events.map((e) => e.type),
  events.map((e) => e.description),
  events.map((e) => e.level),
  events.map((e) => e.dedupeKey),
];

/**
 * A machine's events by its system_id in one statement (a workflow's steps record them): nothing
 * when the machine is gone; idempotent by their dedupe keys.
 */
export async function recordMachineEvents(
  manager: EntityManager,
  systemId: string,
  events: MachineEventInput[],
): Promise<void> {
  if (events.length === 0) return;
  await manager.query(`WITH m AS (SELECT id FROM machines WHERE system_id = $1) ${insertEventsFrom('m')}`, [
    systemId,
    ...eventColumns(events),
  ]);
}

/**
 * The next netboot's purpose (`erase`: commissioning erases the disks instead) and the events that
 * announce the power-on, in one statement. The machine's id, or null when nothing was written.
 */
export function recordNetbootWithEvents(
  manager: EntityManager,
  systemId: string,
  netboot: { purpose: string; erase?: string },
  events: MachineEventInput[],
): Promise<number | null> {
  return updateMachineWithEvents(manager, systemId, 'boot_purpose = $6, boot_erase = $7, updated = now()', events, [
    netboot.purpose,
    netboot.erase ?? '',
  ]);
}

/**
 * A power state and the events that tell it, in one statement: they commit together, so a reader
 * never sees one without the other. The machine's id, or null when nothing was written.
 */
export function recordPowerStateWithEvents(
  manager: EntityManager,
  systemId: string,
  state: string,
  events: MachineEventInput[],
): Promise<number | null> {
  return updateMachineWithEvents(manager, systemId, 'power_state = $6, power_state_at = now()', events, [state]);
}

/**
 * One statement: the machine's UPDATE (`set`, its values from $6 on) and its events' INSERT. The
 * UPDATE is made with its events' first recording only (or alone, given no events): a retried
 * activity finds their dedupe keys taken and must not write back a value (a power state, a boot
 * purpose) the machine may have left since. The machine's id, or null when nothing was written
 * (it is gone, or a retry).
 */
async function updateMachineWithEvents(
  manager: EntityManager,
  systemId: string,
  set: string,
  events: MachineEventInput[],
  values: unknown[],
): Promise<number | null> {
  const rows: Array<{ id: number }> = await manager.query(
    `WITH m AS (SELECT id FROM machines WHERE system_id = $1),
          inserted AS (${insertEventsFrom('m')} RETURNING machine_id),
          changed AS (
            UPDATE machines SET ${set}
             WHERE id IN (SELECT id FROM m)
               AND (cardinality($2::text[]) = 0 OR id IN (SELECT machine_id FROM inserted))
            RETURNING id)
     -- As a SELECT: TypeORM answers an UPDATE with [rows, count].
     SELECT id FROM changed`,
    [systemId, ...eventColumns(events), ...values],
  );
  return rows[0]?.id ?? null;
}
