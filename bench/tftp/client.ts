// The one client every server gets: curl's TFTP (lock-step, the block size we ask for, no
// windowsize), many transfers in one curl process with --parallel. Every file that arrives is
// checked against its SHA-256: a failed or corrupted transfer adds no bytes to the throughput.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Netns } from './netns';

export interface ServedFile {
  name: string;
  size: number;
  sha256: string;
}

export interface FetchResult {
  seconds: number;
  /** Bytes of files that arrived whole and correct. */
  verifiedBytes: number;
  failures: string[];
}

export const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

export async function curlFetch(
  ns: Netns,
  files: ServedFile[],
  outDir: string,
  o: { blksize: number; timeoutS: number },
): Promise<FetchResult> {
  const args = ['-sS', '--tftp-blksize', String(o.blksize), '-m', String(o.timeoutS)];
  if (files.length > 1)
    args.push('--parallel', '--parallel-immediate', '--parallel-max', String(Math.min(files.length, 300)));
  for (const f of files) args.push('-o', path.join(outDir, f.name), `tftp://127.0.0.1/${f.name}`);

  const started = process.hrtime.bigint();
  const child = ns.spawn('curl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const failures: string[] = [];
  if (code !== 0) failures.push(`curl exited ${code}: ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  let verifiedBytes = 0;
  for (const f of files) {
    const out = path.join(outDir, f.name);
    let data: Buffer;
    try {
      data = fs.readFileSync(out);
    } catch {
      failures.push(`${f.name}: not received`);
      continue;
    }
    fs.rmSync(out, { force: true });
    if (data.length === f.size && sha256(data) === f.sha256) verifiedBytes += f.size;
    else
      failures.push(
        `${f.name}: ${data.length} of ${f.size} bytes, checksum ${data.length === f.size ? 'differs' : 'not checked'}`,
      );
  }
  return { seconds, verifiedBytes, failures };
}
