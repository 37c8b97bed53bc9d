// Real PostgreSQL and Temporal for a process: the configured ones, or embedded ones started here.
import path from 'node:path';
import type { Config } from '../runtime/config';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres';
import { findTemporalCli, isListening, startTemporalDevServer } from '../runtime/temporal-dev-server';

export interface Infrastructure {
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  stop(): Promise<void>;
}

const EMBEDDED_PG_PORT = Number(process.env.METALFLOW_PG_PORT ?? 54320);
const EMBEDDED_TEMPORAL_PORT = Number(process.env.METALFLOW_TEMPORAL_PORT ?? 7233);

const listening = (port: number): Promise<boolean> => isListening('127.0.0.1', port);

export async function ensureDatabase(
  config: Config,
  log: (l: string) => void,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => undefined };
  if (await listening(EMBEDDED_PG_PORT)) {
    // Another metalflow process (e.g. `npm start`) already runs the embedded server.
    return {
      url: `postgres://postgres:metalflow@127.0.0.1:${EMBEDDED_PG_PORT}/metalflow`,
      stop: async () => undefined,
    };
  }
  log(`starting embedded PostgreSQL (data in ${path.join(config.stateDir, 'postgres')})`);
  return startEmbeddedPostgres(config.stateDir, EMBEDDED_PG_PORT, log);
}

export async function ensureInfrastructure(config: Config, log: (l: string) => void): Promise<Infrastructure> {
  const db = await ensureDatabase(config, log);
  if (config.temporalAddress) {
    return {
      databaseUrl: db.url,
      temporalAddress: config.temporalAddress,
      temporalUiUrl: process.env.TEMPORAL_UI_URL ?? null,
      stop: db.stop,
    };
  }
  const uiUrl = `http://127.0.0.1:${config.temporalUiPort}`;
  if (await listening(EMBEDDED_TEMPORAL_PORT)) {
    return {
      databaseUrl: db.url,
      temporalAddress: `127.0.0.1:${EMBEDDED_TEMPORAL_PORT}`,
      temporalUiUrl: uiUrl,
      stop: db.stop,
    };
  }
  log('starting temporal server start-dev');
  const temporal = await startTemporalDevServer({
    cli: findTemporalCli(config.temporalCliPath),
    dbFile: path.join(config.stateDir, 'temporal.db'),
    port: EMBEDDED_TEMPORAL_PORT,
    uiPort: config.temporalUiPort,
    logFile: path.join(config.stateDir, 'temporal.log'),
  });
  return {
    databaseUrl: db.url,
    temporalAddress: temporal.address,
    temporalUiUrl: temporal.uiUrl,
    stop: async () => {
      await temporal.stop();
      await db.stop();
    },
  };
}
