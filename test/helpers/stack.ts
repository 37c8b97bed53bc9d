// metalflow as real separate processes (region API, region worker, rack) on the shared test
// PostgreSQL and Temporal: what crash tests kill with SIGKILL and restart, and benchmarks load.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_FLAGS } from '../../src/runtime/node-flags';
import { signedCall } from './http';
import { freshDatabase, freshNamespace, testInfra } from './infra';
import { freePort } from './ports';

const ROOT = path.resolve(__dirname, '..', '..');
export type Role = 'api' | 'worker' | 'rack';
const ARGS: Record<Role, string[]> = {
  api: ['region', '--api-only'],
  worker: ['region', '--worker-only'],
  rack: ['rack'],
};
const READY: Record<Role, RegExp> = {
  api: /region running/,
  worker: /region running \(worker\)/,
  rack: /worker running on task queue/,
};

export interface Stack {
  apiUrl: string;
  namespace: string;
  temporalAddress: string;
  adminKey: string;
  env: NodeJS.ProcessEnv;
  dbUrl: string;
  start(role: Role): Promise<void>;
  kill(role: Role): Promise<void>;
  call(
    method: string,
    path: string,
    form?: Record<string, string | string[]>,
    key?: string,
  ): Promise<{ status: number; body: unknown; text: string }>;
  logs(role: Role): string;
  /** Poll a machine until its status_name is `status`; throws with where it is otherwise. */
  waitForStatus(systemId: string, status: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The OS process id of a running role (benchmarks read its /proc entries). */
  pid(role: Role): number | undefined;
  stop(): Promise<void>;
}

export async function startStack(o: {
  nodeTimeoutSeconds?: number;
  port?: number;
  roles?: Role[];
  env?: NodeJS.ProcessEnv;
  /** Node options for a role's process (benchmarks: --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: Partial<Record<Role, string[]>>;
}): Promise<Stack> {
  const { temporalAddress } = testInfra();
  const port = o.port ?? (await freePort());
  const database = await freshDatabase();
  await database.db.destroy();
  const ns = await freshNamespace();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-stack-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: ns.namespace,
    METALFLOW_STATE_DIR: stateDir,
    METALFLOW_API_PORT: String(port),
    METALFLOW_REGION_URL: `http://127.0.0.1:${port}/MAAS`,
    METALFLOW_NODE_TIMEOUT_SECONDS: String(o.nodeTimeoutSeconds ?? 60),
    METALFLOW_RACK_NAME: 'rack-test',
    METALFLOW_REGION_NAME: 'region-test',
    METALFLOW_RECONCILE_INTERVAL_SECONDS: '2',
    METALFLOW_RECONCILE_GRACE_SECONDS: '2',
    METALFLOW_POWER_POLL_SECONDS: '1',
    // Boot servers on any free port and no DHCP: tests outside the e2e lab share the host's network.
    METALFLOW_DHCP_PORT: 'off',
    METALFLOW_TFTP_PORT: '0',
    METALFLOW_HTTP_BOOT_PORT: '0',
    // No DNS server unless a test asks (METALFLOW_DNS_LISTEN in o.env): stacks run side by side.
    METALFLOW_DNS_LISTEN: 'off',
    // No rack /metrics unless a test asks (its default port 5249 would be shared by every stack).
    METALFLOW_RACK_METRICS_PORT: 'off',
    ...o.env,
  };
  const children = new Map<Role, ChildProcess>();
  const output = new Map<Role, string>();

  const start = async (role: Role) => {
    const nodeArgs = [...NODE_FLAGS, ...childNodeArgs(), ...(o.nodeArgs?.[role] ?? [])];
    const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'metalflow.js'), ...ARGS[role]], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(role, child);
    output.set(role, '');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role} did not start:\n${output.get(role)}`)), 60_000);
      const onData = (chunk: Buffer) => {
        const text = (output.get(role) ?? '') + chunk.toString();
        output.set(role, text.length > 200_000 ? text.slice(-100_000) : text);
        if (READY[role].test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${role} exited with ${code}:\n${output.get(role)}`));
      });
    });
  };
  const kill = async (role: Role) => {
    const child = children.get(role);
    // A child already gone (exited, or killed by a signal) emits no second exit event.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };

  /** SIGTERM, then up to 20 s for the process to stop itself. */
  const terminate = async (role: Role) => {
    const child = children.get(role);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
  };

  for (const role of o.roles ?? (['api', 'worker', 'rack'] as Role[])) await start(role);
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, [path.join(ROOT, 'bin', 'metalflow.js'), ...args], { cwd: ROOT, env });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    });
  await run(['createadmin', '--username', 'admin', '--password', 'pw', '--email', 'admin@example.com']);
  const adminKey = (await run(['apikey', '--username', 'admin'])).trim().split('\n').pop()!;
  const apiUrl = `http://127.0.0.1:${port}/MAAS/api/2.0`;

  return {
    apiUrl,
    namespace: ns.namespace,
    temporalAddress,
    adminKey,
    env,
    dbUrl: database.url,
    start,
    kill,
    logs: (role) => output.get(role) ?? '',
    pid: (role) => {
      const child = children.get(role);
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    call: (method, p, form, key = adminKey) => signedCall(apiUrl + p, method, { key, form }),
    async waitForStatus(systemId, status, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = (await signedCall(`${apiUrl}/machines/${systemId}/`, 'GET', { key: adminKey }).catch(() => undefined))
          ?.body as Record<string, unknown> | undefined;
        if (m?.status_name === status) return m;
        if (Date.now() > deadline)
          throw new Error(`${systemId} is ${String(m?.status_name)} (${String(m?.status_message)}), not ${status}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      // A profiled process writes its profile only when it exits on its own: ask it first.
      if (childNodeArgs().length) for (const role of ['rack', 'worker', 'api'] as Role[]) await terminate(role);
      for (const role of ['rack', 'worker', 'api'] as Role[]) await kill(role);
      await ns.connection.close();
      await database.drop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Node flags for the metalflow processes (e.g. `--cpu-prof --cpu-prof-dir=…` to profile a bench):
 * Node refuses --cpu-prof in NODE_OPTIONS, so it comes this way.
 */
function childNodeArgs(): string[] {
  return (process.env.METALFLOW_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
}
