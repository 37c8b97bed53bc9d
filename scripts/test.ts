// `npm test`: every *.test.ts under test/ through node's test runner. Integration tests share one
// real PostgreSQL server and one real Temporal dev server started here (or the ones given by
// DATABASE_URL / TEMPORAL_ADDRESS); each test file makes its own database and namespace. The e2e
// files run beside them, each in a lab of its own (scripts/e2e-labs.ts), which runs this script
// again inside the lab for that one file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/runtime/embedded-postgres';
import { findTemporalCli, startTemporalDevServer } from '../src/runtime/temporal-dev-server';
import { freePort } from '../test/helpers/ports';
import { LabQueue, canMakeLabs, e2eFiles, lanesFromEnv, lineRelay, reportLabs } from './e2e-labs';
import { TapFailureCollector, failureSummary } from './tap-failures';

const root = path.resolve(__dirname, '..');

const only = process.argv[2];
/** Set inside an e2e lab's namespace (scripts/e2e-labs.ts): run the e2e tests, and only those. */
const inLab = Boolean(process.env.METALFLOW_E2E_NETNS);
const isE2e = (f: string) => f.startsWith(`test${path.sep}e2e${path.sep}`);
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
  return files.filter((f) => (!only || f.includes(only)) && isE2e(f) === inLab).sort();
}

/** The e2e files wanted: none inside a lab, where this script runs one of them. */
function e2eWanted(): string[] {
  if (inLab || !fs.existsSync(path.join(root, 'test', 'e2e'))) return [];
  return e2eFiles(only ?? 'test/e2e/');
}

/**
 * Everything runs in `METALFLOW_TEST_LANES` lanes (default 2, for this kind of machine's 2 cores):
 * the non-e2e files, one at a time, hold one lane while they run (they keep about 0.9 of a core
 * busy on average), and the e2e labs take the others, then all of them. 1 runs the labs one by one
 * after the rest.
 */
async function main(): Promise<number> {
  const files = testFiles();
  const e2e = e2eWanted();
  if (files.length === 0 && e2e.length === 0) throw new Error(`No test files match "${only}".`);
  const lanes = lanesFromEnv('METALFLOW_TEST_LANES', 2);
  const e2eLog = (l: string) => console.error(`[e2e] ${l}`);
  const rootOk = e2e.length === 0 || canMakeLabs(e2eLog);
  const beside = rootOk && e2e.length > 0 && files.length > 0 && lanes > 1;
  const startLabs = (n: number) =>
    new LabQueue(e2e, { prefix: `mf-e2e-${process.pid}`, lanes: n, prefixLines: beside || n > 1, log: e2eLog });
  const queue = beside ? startLabs(lanes - 1) : null;
  const failures = new TapFailureCollector(root);
  let code: number;
  try {
    code = files.length ? await runTests(files, failures) : 0;
  } catch (err) {
    queue?.abort();
    throw err;
  }
  const labs =
    !rootOk || e2e.length === 0 ? [] : await (queue ?? startLabs(Math.min(lanes, e2e.length))).widened(lanes);
  // Last, so that a CI log's tail names them even after the e2e labs' output: the labs' failing
  // tests, then the others'.
  let e2eCode = 0;
  if (!rootOk) {
    e2eLog('not run');
    e2eCode = 1;
  } else if (e2e.length) e2eCode = reportLabs(labs, e2eLog);
  const summary = failureSummary(failures.failures, inLab ? 'e2e tests' : 'tests (not e2e)');
  if (summary) console.log(summary);
  else if (code !== 0) console.log(`[test] node's test runner exited with ${code} and reported no failing test`);
  return Math.max(code, e2eCode);
}

async function runTests(files: string[], failures: TapFailureCollector): Promise<number> {
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
        cli: findTemporalCli(env.TEMPORAL_CLI_PATH),
        dbFile: null,
        port: await freePort(),
        uiPort: null,
        logFile: path.join(stateDir, 'temporal.log'),
      });
      stops.push(temporal.stop);
      env.METALFLOW_TEST_TEMPORAL = temporal.address;
    } else env.METALFLOW_TEST_TEMPORAL = env.TEMPORAL_ADDRESS;
    env.METALFLOW_TEST_STATE_DIR = stateDir;
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        // An e2e file (run in the lab namespace) deploys real VMs under TCG for up to its own
        // describe's 40 minutes; 15 cut the real-image files short on a loaded machine.
        [
          '--import',
          'tsx',
          '--test',
          '--test-concurrency=1',
          '--test-reporter=tap',
          `--test-timeout=${env.METALFLOW_E2E_NETNS ? 2_400_000 : 900_000}`,
          ...files,
        ],
        { cwd: root, stdio: ['inherit', 'pipe', 'inherit'], env },
      );
      // Whole lines only: e2e labs running beside write theirs in between.
      const relay = lineRelay('', process.stdout);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        relay.push(chunk);
        failures.push(chunk);
      });
      child.on('close', (c, signal) => {
        relay.end();
        failures.end();
        resolve(c ?? (signal ? 1 : 0));
      });
    });
    return code;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('test setup failed:', err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
