// Canonical's `maas` CLI (MAAS 3.7.3, unmodified, in ../shared/peers/maascli or METALFLOW_MAASCLI)
// run as an operator runs it: one login in its own HOME, then `maas <profile> <handler> <action>`
// commands. Every API command runs with `-d`, which makes the CLI print the HTTP status line and
// headers to stderr, so a test checks the status and Content-Type the CLI actually saw.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
export const MAASCLI_DIR = process.env.METALFLOW_MAASCLI ?? path.resolve(ROOT, '..', 'shared', 'peers', 'maascli');
export const MAASCLI_PYTHON = path.join(ROOT, '.venv-maascli', 'bin', 'python');
/** One CLI call: Python starts, maybe logs in or waits on a workflow's first step; never minutes. */
const CALL_TIMEOUT_MS = 60_000;
const PROFILE = 'admin';

export interface CliResult {
  args: string[];
  exitCode: number | null;
  /** The HTTP status the CLI printed (`-d`), undefined for commands that print none (login). */
  status?: number;
  /** Response headers the CLI printed, names lower-cased. */
  headers: Record<string, string>;
  stdout: string;
  /** stderr after the status line and headers: the CLI's own warnings and errors. */
  stderr: string;
}

export interface MaasCli {
  /** `maas <args>` as typed (no profile, no `-d`). */
  raw(args: string[]): Promise<CliResult>;
  /** `maas admin <handler> <action> -d <rest>`. */
  api(handler: string, action: string, ...rest: string[]): Promise<CliResult>;
  /** The same, which must succeed with 200 and print JSON: the parsed JSON. */
  json<T = Record<string, unknown>>(handler: string, action: string, ...rest: string[]): Promise<T>;
  /** The same with another success status (MAAS answers some creates 201). */
  jsonWith<T = Record<string, unknown>>(status: number, handler: string, action: string, ...rest: string[]): Promise<T>;
  stop(): void;
}

/** Why a CLI call is not what the test wanted, with everything the CLI printed. */
export const describeCall = (r: CliResult): string =>
  `maas ${r.args.join(' ')} → exit ${r.exitCode}, HTTP ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

export function maasCliMissing(): string | undefined {
  if (!fs.existsSync(path.join(MAASCLI_DIR, 'maas')))
    return `the maas CLI is not at ${MAASCLI_DIR}: set METALFLOW_MAASCLI to its directory`;
  if (!fs.existsSync(MAASCLI_PYTHON))
    return `${MAASCLI_PYTHON} is missing: run scripts/bootstrap.mjs --test (it installs the CLI's requirements there)`;
  return undefined;
}

/** Splits `-d`'s stderr: "200 OK", blank, "  Name: value" lines, blank, then anything else. */
function parseDebug(stderr: string): Pick<CliResult, 'status' | 'headers' | 'stderr'> {
  const m = /^(\d{3}) [^\n]*\n\n((?:[ \t]*[\w-]+: [^\n]*\n)*)\n?/.exec(stderr);
  if (!m) return { headers: {}, stderr };
  const headers: Record<string, string> = {};
  for (const line of m[2]!.split('\n')) {
    const h = /^\s*([\w-]+): (.*)$/.exec(line);
    if (h) headers[h[1]!.toLowerCase()] = h[2]!;
  }
  return { status: Number(m[1]), headers, stderr: stderr.slice(m[0].length) };
}

/** Logs in to `maasUrl` (…/MAAS/) with `apiKey` in a fresh HOME, which stop() removes. */
export async function loginMaasCli(maasUrl: string, apiKey: string): Promise<MaasCli & { login: CliResult }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'maascli-home-'));
  const env = { PATH: process.env.PATH, HOME: home, MAASCLI_PYTHON, LANG: 'C.UTF-8' };
  const raw = (args: string[]) =>
    new Promise<CliResult>((resolve) => {
      execFile(
        path.join(MAASCLI_DIR, 'maas'),
        args,
        { env, timeout: CALL_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const exitCode = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          resolve({ args, exitCode, stdout, ...parseDebug(stderr) });
        },
      );
    });
  const api = (handler: string, action: string, ...rest: string[]) => raw([PROFILE, handler, action, '-d', ...rest]);
  const jsonWith = async <T>(status: number, handler: string, action: string, ...rest: string[]): Promise<T> => {
    const r = await api(handler, action, ...rest);
    assert.equal(r.exitCode, 0, describeCall(r));
    assert.equal(r.status, status, describeCall(r));
    assert.match(r.headers['content-type'] ?? '', /^application\/json/, describeCall(r));
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      assert.fail(`not JSON: ${describeCall(r)}`);
    }
  };
  const login = await raw(['login', PROFILE, maasUrl, apiKey]);
  return {
    login,
    raw,
    api,
    jsonWith,
    json: (handler, action, ...rest) => jsonWith(200, handler, action, ...rest),
    stop: () => fs.rmSync(home, { recursive: true, force: true }),
  };
}
