// metalflow as production runs it, as processes: N region processes (`metalflow region`: API +
// workers, the command and environment variables the compose file uses) and one rack, on one
// PostgreSQL and one Temporal. A test kills and restarts any of them; its client fails over from
// a region that refuses connections or answers 503 to the next one, as a load balancer would.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { oauthHeader } from '../../src/api/http';
import { NODE_FLAGS } from '../../src/runtime/node-flags';
import { formBody } from './http';
import { freePort } from './ports';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ClusterCall {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
  /** Which region answered. */
  region: number;
  /** Attempts `call` made: more than one means an earlier one may have been applied, its reply lost. */
  attempts: number;
}

export interface Cluster {
  adminKey: string;
  regionCount: number;
  apiUrl(region: number): string;
  startRegion(i: number): Promise<void>;
  killRegion(i: number): Promise<void>;
  startRack(): Promise<void>;
  killRack(): Promise<void>;
  /** One attempt at one region (connection errors throw). */
  callRegion(i: number, method: string, p: string, form?: Record<string, string | string[]>): Promise<ClusterCall>;
  /** Tries the regions in turn (from `prefer`) on connection errors and 503s until `deadlineMs` passes. */
  call(method: string, p: string, form?: Record<string, string | string[]>, prefer?: number): Promise<ClusterCall>;
  logs(name: string): string;
  /** Whether a process ("region-0", "rack") started by the cluster still runs (none exits on an outage). */
  running(name: string): boolean;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  regions: number;
  /** Which region the rack (and so its fake machines) talks to. */
  rackRegion?: number;
  nodeTimeoutSeconds?: number;
  /** How long `call` keeps failing over before it gives up. */
  callDeadlineMs?: number;
}

/** Ready lines the processes print once they serve. */
const REGION_READY = /region running \(api \+ worker\)/;
const RACK_READY = /worker running on task queue/;

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const ports = await Promise.all(Array.from({ length: o.regions }, () => freePort()));
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-cluster-'));
  // Shared by every region (the compose file gives each container the same values).
  const shared: NodeJS.ProcessEnv = {
    DATABASE_URL: o.databaseUrl,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_NAMESPACE: o.namespace,
    METALFLOW_SECRET_KEY: crypto.randomBytes(16).toString('hex'),
    METALFLOW_RACK_SECRET: crypto.randomBytes(16).toString('hex'),
    METALFLOW_NODE_TIMEOUT_SECONDS: String(o.nodeTimeoutSeconds ?? 300),
    METALFLOW_RECONCILE_INTERVAL_SECONDS: '2',
    METALFLOW_RECONCILE_GRACE_SECONDS: '5',
    METALFLOW_POWER_POLL_SECONDS: '2',
    METALFLOW_DNS_LISTEN: 'off',
  };
  const regionEnv = (i: number): NodeJS.ProcessEnv => ({
    ...process.env,
    ...shared,
    METALFLOW_STATE_DIR: path.join(baseDir, `region-${i}`),
    METALFLOW_API_HOST: '127.0.0.1',
    METALFLOW_API_PORT: String(ports[i]),
    METALFLOW_REGION_URL: `http://127.0.0.1:${ports[i]}/MAAS`,
    METALFLOW_REGION_NAME: `region-${i}`,
  });
  const rackRegion = o.rackRegion ?? 0;
  const rackEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...shared,
    METALFLOW_STATE_DIR: path.join(baseDir, 'rack'),
    METALFLOW_REGION_URL: `http://127.0.0.1:${ports[rackRegion]}/MAAS`,
    METALFLOW_RACK_NAME: 'rack-ha',
    // Boot servers on free ports and no DHCP: tests outside the e2e lab share the host's network.
    METALFLOW_DHCP_PORT: 'off',
    METALFLOW_TFTP_PORT: '0',
    METALFLOW_HTTP_BOOT_PORT: '0',
  };

  const children = new Map<string, ChildProcess>();
  const output = new Map<string, string>();
  const spawnProcess = async (name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bin', 'metalflow.js'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(name, child);
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${text}`)), 120_000);
      const onData = (chunk: Buffer) => {
        text += chunk.toString();
        const all = (output.get(name) ?? '') + chunk.toString();
        output.set(name, all.length > 400_000 ? all.slice(-200_000) : all);
        if (ready.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}):\n${text}`));
      });
    });
  };
  const kill = async (name: string) => {
    const child = children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  const runCli = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, [path.join(ROOT, 'bin', 'metalflow.js'), ...args], {
        cwd: ROOT,
        env: regionEnv(0),
      });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    });

  const startRegion = (i: number) => spawnProcess(`region-${i}`, ['region'], regionEnv(i), REGION_READY);
  // All regions start at once, as a compose file's would: migrations race and one wins.
  await Promise.all(Array.from({ length: o.regions }, (_, i) => startRegion(i)));
  await runCli(['createadmin', '--username', 'admin', '--password', 'pw', '--email', 'admin@example.com']);
  const adminKey = (await runCli(['apikey', '--username', 'admin'])).trim().split('\n').pop()!;
  const startRack = () => spawnProcess('rack', ['rack'], rackEnv, RACK_READY);
  await startRack();

  const apiUrl = (i: number) => `http://127.0.0.1:${ports[i]}/MAAS/api/2.0`;
  const callRegion = async (i: number, method: string, p: string, form?: Record<string, string | string[]>) => {
    const r = await requestOnce(apiUrl(i) + p, method, { Authorization: oauthHeader(adminKey) }, form).catch(
      (err: Error) => {
        throw new Error(`${method} ${p} at region ${i}: ${err.message}`, { cause: err });
      },
    );
    let body: unknown = r.text;
    try {
      body = JSON.parse(r.text);
    } catch {
      // plain text
    }
    return { ...r, body, region: i, attempts: 1 };
  };
  const deadlineMs = o.callDeadlineMs ?? 120_000;
  let next = 0;
  const call = async (method: string, p: string, form?: Record<string, string | string[]>, prefer?: number) => {
    const deadline = Date.now() + deadlineMs;
    let i = prefer ?? next++ % o.regions;
    for (let attempts = 1; ; attempts++) {
      let failure: string;
      let waitMs = 200;
      try {
        const r = await callRegion(i, method, p, form);
        if (r.status !== 503) return { ...r, attempts };
        failure = `503 ${r.text}`;
        waitMs = Math.min(2, Number(r.headers.get('retry-after') ?? 1)) * 1000;
      } catch (err) {
        failure = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${method} ${p}: no region answered: ${failure}`);
      i = (i + 1) % o.regions;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  };

  return {
    adminKey,
    regionCount: o.regions,
    apiUrl,
    startRegion,
    killRegion: (i) => kill(`region-${i}`),
    startRack,
    killRack: () => kill('rack'),
    callRegion,
    call,
    logs: (name) => output.get(name) ?? '',
    running: (name) => {
      const child = children.get(name);
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      await kill('rack');
      for (let i = 0; i < o.regions; i++) await kill(`region-${i}`);
      fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

const ANSWER_WITHIN_MS = 60_000;

/**
 * One request on a connection of its own (`Connection: close`). fetch reuses an idle keep-alive
 * socket, which the region may be closing at that moment (its keep-alive timeout): a reset that
 * says nothing about the region. On a fresh connection, a reset or a refusal is the region's.
 */
function requestOnce(
  url: string,
  method: string,
  headers: Record<string, string>,
  form?: Record<string, string | string[]>,
): Promise<{ status: number; text: string; headers: Headers }> {
  const body = form ? formBody(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      agent: false,
      headers: {
        ...headers,
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        'content-length': String(Buffer.byteLength(body ?? '')),
      },
      // A region that accepts the connection and then says nothing is a failure too.
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
    const fail = (err: Error) =>
      reject(err.name === 'AbortError' ? new Error(`no whole answer within ${ANSWER_WITHIN_MS / 1000} s`) : err);
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const replyHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) replyHeaders.append(k, x);
        resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), headers: replyHeaders });
      });
    });
    req.end(body);
  });
}
