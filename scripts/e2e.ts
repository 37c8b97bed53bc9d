// `npm run e2e`: only the e2e files, each in a lab of its own, a fresh network namespace
// (scripts/e2e-labs.ts; `npm test` runs the same labs beside its other files). Two labs run at once
// (METALFLOW_E2E_LANES, default 2, for the 2 cores: alone, a lab keeps about 1.2 of them busy).
import { LabQueue, e2eFiles, isRootOrSays, lanesFromEnv, tearDownOnSignal } from './e2e-labs';
import { failureSummary } from './tap-failures';

const log = (l: string) => console.error(`[e2e] ${l}`);

async function main(): Promise<number> {
  if (!isRootOrSays(log)) return 1;
  const filter = process.argv[2] ?? 'test/e2e/';
  const files = e2eFiles(filter);
  if (files.length === 0) {
    log(`no e2e file matches "${filter}"`);
    return 1;
  }
  const lanes = Math.min(lanesFromEnv('METALFLOW_E2E_LANES', 2), files.length);
  const queue = new LabQueue(files, { prefix: `mf-e2e-${process.pid}`, lanes, prefixLines: lanes > 1, log });
  tearDownOnSignal(() => queue.runningLabs());
  const results = await queue.done;
  const failed = results.filter((r) => r.code !== 0);
  log(
    `${files.length - failed.length} of ${files.length} e2e files passed${failed.map((r) => `; failed: ${r.file}`).join('')}`,
  );
  // Last, so that the tail of a long run names them.
  const summary = failureSummary(
    results.flatMap((r) => r.failures),
    'e2e tests',
  );
  if (summary) console.log(summary);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('e2e failed:', err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
