// Rewrites bench/README.md's table from bench/results/*.json (bench/readme-table.ts). bench/run.ts
// calls it after every run; `node --import tsx bench/write-readme.ts` does it by hand.
import fs from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR } from './lib/results';
import { renderBenchTable, tableOf, withTable } from './readme-table';

export const README = path.resolve(__dirname, 'README.md');

export function writeReadme(): string {
  const results = Object.fromEntries(
    fs
      .readdirSync(RESULTS_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [
        path.basename(f, '.json'),
        JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as Record<string, unknown>,
      ]),
  );
  const readme = fs.readFileSync(README, 'utf8');
  fs.writeFileSync(README, withTable(readme, renderBenchTable(results, tableOf(readme))));
  return README;
}

if (require.main === module) console.log(`wrote ${writeReadme()}`);
