// Many fake machines driven through operations while something fails, and what became of each:
// completed, failed (with MAAS's status and message), or stuck (still in progress at the end).
// The client is a failover one (region-cluster's call), so an outage costs time, not operations.
import assert from 'node:assert/strict';
import pg from 'pg';
import { macAddress } from './factories';
import type { Cluster } from './region-cluster';

interface MachineJson {
  system_id: string;
  hostname: string;
  status_name: string;
  status_message: string | null;
}

export interface Tally {
  label: string;
  trials: number;
  completed: string[];
  failed: Array<{ systemId: string; reason: string }>;
  stuck: Array<{ systemId: string; status: string }>;
}

/** Operations and the statuses they pass through (MAAS's names). */
export const OPERATIONS = {
  commission: { inProgress: 'Commissioning', done: 'Ready' },
  deploy: { inProgress: 'Deploying', done: 'Deployed' },
} as const;
export type Operation = keyof typeof OPERATIONS;

export async function createFakeMachines(
  cluster: Cluster,
  prefix: string,
  n: number,
  delayMs = 300,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const hostname = `${prefix}-${i}`;
    const r = await cluster.call('POST', '/machines/', {
      hostname,
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'fake',
      power_parameters_fake_delay_ms: String(delayMs),
      // Created as it is: commissioning is what the tests drive.
      commission: 'false',
    });
    assert.equal(r.status, 200, r.text);
    ids.push((r.body as MachineJson).system_id);
  }
  return ids;
}

export async function machines(cluster: Cluster): Promise<Map<string, MachineJson>> {
  const r = await cluster.call('GET', '/machines/');
  assert.equal(r.status, 200, r.text);
  return new Map((r.body as MachineJson[]).map((m) => [m.system_id, m]));
}

/**
 * Starts `op` on a machine through the failover client. A lost reply (the region died after
 * committing) makes the retry a refusal while the operation runs: that is a start, not a failure.
 */
export async function startOperation(cluster: Cluster, systemId: string, op: Operation): Promise<void> {
  const form = op === 'deploy' ? { distro_series: 'jammy' } : undefined;
  const r = await cluster.call('POST', `/machines/${systemId}/op-${op}`, form);
  if (r.status === 200) return;
  const m = (await cluster.call('GET', `/machines/${systemId}/`)).body as MachineJson;
  const { inProgress, done } = OPERATIONS[op];
  // MAAS refuses the repeat with 400 (commission) or 409 (deploy): the first attempt took.
  const repeated = r.attempts > 1 && (r.status === 400 || r.status === 409);
  if (repeated && (m.status_name === inProgress || m.status_name === done)) return;
  // A 5xx is a bug of the region's: what it logged says which.
  const log = r.status >= 500 ? `\nregion-${r.region} logged:\n${cluster.logs(`region-${r.region}`).slice(-6000)}` : '';
  assert.fail(`${op} ${systemId}: ${r.status} ${r.text} (machine is ${m.status_name})${log}`);
}

/** Waits until no machine is in the operation's in-progress status (or `timeoutMs`), then tallies. */
export async function settle(
  cluster: Cluster,
  label: string,
  ids: string[],
  op: Operation,
  timeoutMs: number,
): Promise<Tally> {
  const { inProgress, done } = OPERATIONS[op];
  const deadline = Date.now() + timeoutMs;
  let seen = await machines(cluster);
  while (ids.some((id) => seen.get(id)?.status_name === inProgress) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    seen = await machines(cluster);
  }
  const tally: Tally = { label, trials: ids.length, completed: [], failed: [], stuck: [] };
  for (const id of ids) {
    const m = seen.get(id);
    if (m?.status_name === done) tally.completed.push(id);
    else if (!m || m.status_name === inProgress) tally.stuck.push({ systemId: id, status: m?.status_name ?? 'gone' });
    else tally.failed.push({ systemId: id, reason: `${m.status_name}: ${m.status_message ?? ''}` });
  }
  // The numbers a report quotes: printed whatever the assertions then say.
  console.log(
    `[outcomes] ${label}: trials ${tally.trials}, completed ${tally.completed.length}, ` +
      `failed ${tally.failed.length}${tally.failed.length ? ` (${tally.failed.map((f) => `${f.systemId} ${f.reason}`).join('; ')})` : ''}, ` +
      `stuck ${tally.stuck.length}${tally.stuck.length ? ` (${tally.stuck.map((s) => s.systemId).join(', ')})` : ''}`,
  );
  return tally;
}

/**
 * Events recorded more often than once per operation a machine went through: a step replayed
 * after a crash or an outage must not record its event again (each machine's commissioning and
 * deployment each record "Powering on …", "Node powered on", "Signal WORKING" once, and so on).
 * Returns "system_id type: description ×count" for each.
 */
export async function duplicateEvents(dbUrl: string, ids: string[], operations: number): Promise<string[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query<{ system_id: string; type: string; description: string; n: string }>(
      `SELECT m.system_id, e.type, e.description, count(*) AS n FROM events e JOIN machines m ON m.id = e.machine_id
        WHERE m.system_id = ANY($1) GROUP BY m.system_id, e.type, e.description HAVING count(*) > $2`,
      [ids, operations],
    );
    return r.rows.map((row) => `${row.system_id} ${row.type}: ${row.description} ×${row.n}`);
  } finally {
    await c.end();
  }
}

/** Every event of one machine, oldest first (for a failure's message). */
export async function eventLog(dbUrl: string, systemId: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query<{ type: string; description: string }>(
      `SELECT e.type, e.description FROM events e JOIN machines m ON m.id = e.machine_id
        WHERE m.system_id = $1 ORDER BY e.id`,
      [systemId],
    );
    return r.rows.map((e) => `${e.type}: ${e.description}`);
  } finally {
    await c.end();
  }
}
