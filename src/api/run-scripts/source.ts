// The text of maas-run-scripts.sh, whose collect_hardware is the built-in commissioning script
// (the ephemeral init loads it as a library): scripts/?include_script=true shows it.
import fs from 'node:fs';
import path from 'node:path';

let cached: Buffer | undefined;

/** Read on first use: the script ships next to this file (no build step; tsx runs the sources). */
export function runScriptsSource(): Buffer {
  cached ??= fs.readFileSync(path.join(__dirname, 'maas-run-scripts.sh'));
  return cached;
}
