// `npm test`: every *.test.ts under test/ through node's test runner. Integration tests share one
// real PostgreSQL server and one real Temporal dev server started here (or the ones given by
// DATABASE_URL / TEMPORAL_ADDRESS); each test file makes its own database and namespace.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/runtime/embedded-postgres';
import { findTemporalCli, startTemporalDevServer } from '../src/runtime/temporal-dev-server';
import { freePort } from '../test/helpers/ports';

const root = path.resolve(__dirname, '..');

const only = process.argv[2];
const log = (l: string) => console.error(`[test-setup] ${l}`);

function testFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) files.push(path.relative(root, full));
    }
  };
  walk(path.join(root, 'test'));
  return files.filter((f) => !only || f.includes(only)).sort();
}

async function main(): Promise<number> {
  const files = testFiles();
  if (files.length === 0) throw new Error(`No test files match "${only}".`);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-test-'));
  fs.chmodSync(stateDir, 0o755);
  const stops: Array<() => Promise<void>> = [];
  const env = { ...process.env };
  try {
    if (!env.DATABASE_URL) {
      const pg = await startEmbeddedPostgres(stateDir, await freePort(), log);
      stops.push(pg.stop);
      env.METALFLOW_TEST_PG_URL = pg.url;
    } else env.METALFLOW_TEST_PG_URL = env.DATABASE_URL;
    if (!env.TEMPORAL_ADDRESS) {
      const temporal = await startTemporalDevServer({
        cli: findTemporalCli(env.TEMPORAL_CLI_PATH), dbFile: null, port: await freePort(), uiPort: null, logFile: path.join(stateDir, 'temporal.log'),
      });
      stops.push(temporal.stop);
      env.METALFLOW_TEST_TEMPORAL = temporal.address;
    } else env.METALFLOW_TEST_TEMPORAL = env.TEMPORAL_ADDRESS;
    env.METALFLOW_TEST_STATE_DIR = stateDir;
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=900000', ...files], { cwd: root, stdio: 'inherit', env });
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    return code;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error('test setup failed:', err instanceof Error ? err.stack : err);
  process.exit(1);
});
