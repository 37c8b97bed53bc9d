// The Temporal server restarted under load (issue 18): a region and a rack (processes) on a
// Temporal dev server of this file's own, persisting to a SQLite file so its workflows survive,
// 50 fake machines commissioning and then deploying; mid-way through each, the server is stopped
// and started again on the same port and file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findTemporalCli, startTemporalDevServer, type RunningTemporal } from '../../src/runtime/temporal-dev-server';
import { freshDatabase } from '../helpers/infra';
import { runThroughOutages } from '../helpers/outage-run';
import { freePort } from '../helpers/ports';
import { startCluster, type Cluster } from '../helpers/region-cluster';

describe('Temporal restarts in the middle of 50 commissionings and deployments', () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-temporal-restart-'));
  let port: number;
  let temporal: RunningTemporal | undefined;
  let cluster: Cluster;
  let dbUrl: string;
  let drop: () => Promise<void>;
  let repeats: string[] | undefined;
  const startTemporal = async () =>
    startTemporalDevServer({
      cli: findTemporalCli(process.env.TEMPORAL_CLI_PATH),
      dbFile: path.join(stateDir, 'temporal.db'),
      port,
      uiPort: null,
      logFile: path.join(stateDir, 'temporal.log'),
    });
  before(async () => {
    port = await freePort();
    temporal = await startTemporal();
    const database = await freshDatabase();
    await database.db.destroy();
    dbUrl = database.url;
    drop = database.drop;
    cluster = await startCluster({
      databaseUrl: dbUrl,
      temporalAddress: temporal.address,
      namespace: 'default',
      regions: 1,
    });
  });
  after(async () => {
    await cluster?.stop();
    await temporal?.stop();
    await drop?.();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('every machine ends Ready, then Deployed; operations get 503 while Temporal is away', async () => {
    repeats = await runThroughOutages({
      cluster,
      dbUrl,
      fault: 'Temporal restart',
      machines: 50,
      reason: /workflow service \(Temporal\) is unavailable/,
      down: async () => {
        await temporal!.stop();
        temporal = undefined;
      },
      up: async () => {
        temporal = await startTemporal();
      },
    });
  });

  // A machine's report whose signal Temporal could not take got a 503; its retry must not find the
  // report's event already written (metadata.ts signals inside the event's transaction).
  it('no event is recorded twice', () => {
    assert.ok(repeats, 'the run above finished');
    assert.deepEqual(repeats, [], 'a replayed step records its event once');
  });
});
