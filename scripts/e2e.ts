// `npm run e2e`: only the e2e files, each in a lab of its own, a fresh network namespace
// (scripts/e2e-labs.ts; `npm test` runs the same labs beside its other files). Two labs run at once
// (METALFLOW_E2E_LANES, default 2, for the 2 cores: alone, a lab keeps about 1.2 of them busy).
import { LabQueue, canMakeLabs, e2eFiles, lanesFromEnv, reportLabs } from './e2e-labs';

const log = (l: string) => console.error(`[e2e] ${l}`);

async function main(): Promise<number> {
  if (!canMakeLabs(log)) return 1;
  const filter = process.argv[2] ?? 'test/e2e/';
  const files = e2eFiles(filter);
  if (files.length === 0) {
    log(`no e2e file matches "${filter}"`);
    return 1;
  }
  const lanes = Math.min(lanesFromEnv('METALFLOW_E2E_LANES', 2), files.length);
  const queue = new LabQueue(files, { prefix: `mf-e2e-${process.pid}`, lanes, prefixLines: lanes > 1, log });
  return reportLabs(await queue.done, log);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('e2e failed:', err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
