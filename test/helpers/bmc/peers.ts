// Shared bits for the BMC peers tests start: free local ports, waiting for a peer to listen,
// stopping a child process, and whether a peer program is installed.
import { spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import assert from 'node:assert/strict';
import { PowerError } from '../../../src/rack/power/driver';
import { freePort as freeTcpPort } from '../ports';

/** A port nothing listens on right now (the peer binds it a moment later; fine on a test box). */
export async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const { port } = sock.address();
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    return port;
  }
  return freeTcpPort();
}

export async function waitFor(
  what: string,
  ready: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(ready)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

export function installed(program: string): boolean {
  // Only "not found" counts: some peers answer --help with a non-zero exit.
  const { error } = spawnSync(program, ['--help'], { stdio: 'ignore', timeout: 5_000 });
  return (error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';
}

/**
 * Why a peer test is skipped, or false to run it. CI (.ci/run) installs the peers and sets
 * METALFLOW_TEST_REQUIRE_BMC_PEERS, so there a missing peer fails instead of skipping.
 */
export function skipUnless(program: string, hint: string): string | false {
  if (installed(program) || process.env.METALFLOW_TEST_REQUIRE_BMC_PEERS) return false;
  return `${program} is not installed (${hint})`;
}

/** For assert.rejects: the driver failed with a PowerError of the given kind and wording. */
export function isPowerError(retryable: boolean, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof PowerError, `not a PowerError: ${String(err)}`);
    assert.equal(err.retryable, retryable, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}
