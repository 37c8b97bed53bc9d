// A machine's report that arrives twice. The metadata protocol has no request id: a machine
// (MAAS's environment, cloud-init, metalflow's) retries a POST whose reply it never got, and when
// the region died between the report's commit and its reply, the retry is the same report again.
// A committed report's Temporal signal went out before its commit (services/metadata.ts), so a
// repeat needs nothing done: no second event, no second signal for a later step to mistake.
import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';

/**
 * How far apart a report and its retry may be. A retry follows its lost reply within seconds (the
 * region that died restarts, or the machine's next attempt reaches another); the window stays
 * well under the 120 s between the environment's bare WORKING heartbeats while a long script
 * runs, which are real reports however alike.
 */
export const REPORT_RETRY_WINDOW_SECONDS = 60;

/** A digest of everything a report carried: its words, its fields and its files' contents. */
export function reportDigest(parts: Array<string | number | undefined>, files: Map<string, Buffer>): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(`${p ?? ''}\0`);
  for (const [name, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${name}\0${content.length}\0`);
    h.update(content);
  }
  return h.digest('hex');
}

/**
 * Whether a report repeats this machine's latest status signal (`Signal …` event): the same digest
 * (reportDigest), recorded within the retry window, in the same operation (`claimToken`: a new
 * operation's first report may read like the previous one's last, and is a report). Only the
 * latest counts, so a machine that says WORKING, then OK, then WORKING again is three reports.
 */
export async function repeatsLatestSignal(
  tx: EntityManager,
  machineId: number,
  claimToken: string | null,
  digest: string,
): Promise<boolean> {
  const rows: Array<{ report_digest: string | null; claim_token: string | null }> = await tx.query(
    `SELECT report_digest, claim_token FROM events
      WHERE machine_id = $1 AND description LIKE 'Signal %'
        AND created > now() - make_interval(secs => $2)
      ORDER BY id DESC LIMIT 1`,
    [machineId, REPORT_RETRY_WINDOW_SECONDS],
  );
  const latest = rows[0];
  return latest !== undefined && latest.claim_token === claimToken && latest.report_digest === digest;
}

/** The dedupe key of a stamped report (cloud-init's events carry their own timestamp). */
export function reportKey(machineId: number, timestamp: string, ...parts: Array<string | undefined>): string {
  const digest = crypto
    .createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\0'))
    .digest('hex')
    .slice(0, 32);
  return `report:${machineId}:${timestamp}:${digest}`;
}
