// PostgreSQL restarted under load (issue 18): a region and a rack (processes) on a PostgreSQL of
// this file's own (so no other test sees the outage), 50 fake machines commissioning and then
// deploying; mid-way through each, the cluster is stopped and started again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/runtime/embedded-postgres';
import { freshNamespace, testInfra } from '../helpers/infra';
import { runThroughOutages } from '../helpers/outage-run';
import { freePort } from '../helpers/ports';
import { startCluster, type Cluster } from '../helpers/region-cluster';

describe('PostgreSQL restarts in the middle of 50 commissionings and deployments', () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-pg-restart-'));
  // As root, initdb runs as the postgres user, who must reach the data directory's parent.
  fs.chmodSync(stateDir, 0o755);
  const log = (line: string) => console.error(`[postgres] ${line}`);
  let port: number;
  let postgres: RunningPostgres | undefined;
  let cluster: Cluster;
  let closeNamespace: () => Promise<void>;
  before(async () => {
    port = await freePort();
    postgres = await startEmbeddedPostgres(stateDir, port, log);
    const ns = await freshNamespace();
    closeNamespace = () => ns.connection.close();
    cluster = await startCluster({
      databaseUrl: postgres.url,
      temporalAddress: testInfra().temporalAddress,
      namespace: ns.namespace,
      regions: 1,
    });
  });
  after(async () => {
    await cluster?.stop();
    await closeNamespace?.();
    await postgres?.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('every machine ends Ready, then Deployed; the API answers 503 while the database is away', async () => {
    const repeats = await runThroughOutages({
      cluster,
      dbUrl: postgres!.url,
      fault: 'PostgreSQL restart',
      machines: 50,
      reason: /database is unavailable/,
      down: async () => {
        await postgres!.stop();
        postgres = undefined;
      },
      up: async () => {
        postgres = await startEmbeddedPostgres(stateDir, port, log);
      },
    });
    assert.deepEqual(repeats, [], 'a replayed step records its event once');
  });
});
