// image: how fast the rack's HTTP boot server (src/rack/boot/static-files.ts, what installers
// stream OS images from) serves the deployable image (images/os/build.sh, ~10 MB gzip'd) to 1,
// 10 and 50 concurrent downloads, against nginx (Debian nginx-light, one worker, sendfile on: a
// single process like the rack's) serving the same file, in the same run. Both servers run as
// their own processes on loopback; the client is this process (Node http, streaming SHA-256 of
// every download: only whole, correct files count); each scenario moves ~50 copies (1 client x
// 50 in a row, 10 x 5, 50 x 1). On a 2-CPU machine the client's hashing shares the CPUs with the
// server, so besides MB/s the server's CPU seconds per GB served are recorded (the cost that
// does not depend on the client). Servers take turns, order rotating each round; medians over
// the rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { stopChild } from '../test/helpers/bmc/peers';
import { freePort } from '../test/helpers/ports';
import { treeCpuSeconds } from './lib/proc';
import { round } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const ROOT = path.resolve(__dirname, '..');
const BOOT_ROOT = path.join(ROOT, 'build', 'boot');
const IMAGE = '/images/os/custom/metalflow-standin/amd64/disk.img.gz';
const CONCURRENCY = [1, 10, 50];
const ROUNDS = 5;
/** Downloads per scenario: each of the c clients fetches the file ceil(PER_SCENARIO / c) times in a row. */
const PER_SCENARIO = 50;
const NGINX = '/usr/sbin/nginx';

interface Server {
  name: string;
  proc: ChildProcess;
  port: number;
}

interface Run {
  round: number;
  seconds: number;
  mb_per_s: number;
  server_cpu_seconds: number;
  server_cpu_seconds_per_gb: number;
  client_cpu_seconds: number;
  failures: string[];
}

export async function image(log: Log): Promise<BenchOutcome> {
  const file = path.join(BOOT_ROOT, IMAGE);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run images/os/build.sh`);
  if (!fs.existsSync(NGINX)) throw new Error(`${NGINX} is not installed (apt-get install nginx-light)`);
  const bytes = fs.statSync(file).size;
  const expected = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const starters: Record<string, () => Promise<Server>> = { metalflow: startMetalflow, nginx: startNginx };
  const names = Object.keys(starters);
  const runs: Record<string, Record<string, Run[]>> = Object.fromEntries(
    names.map((n) => [n, Object.fromEntries(CONCURRENCY.map((c) => [`c${c}`, []]))]),
  );
  for (let r = 1; r <= ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r - 1) % names.length]!);
    for (const name of order) {
      const server = await starters[name]!();
      try {
        await download(server.port, expected); // warm the page cache and the server
        for (const c of CONCURRENCY) {
          const each = Math.ceil(PER_SCENARIO / c);
          const cpu0 = treeCpuSeconds(server.proc.pid!);
          const client0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          const results = (
            await Promise.all(
              Array.from({ length: c }, async () => {
                const mine: Array<string | undefined> = [];
                for (let i = 0; i < each; i++) mine.push(await download(server.port, expected));
                return mine;
              }),
            )
          ).flat();
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          const client = process.cpuUsage(client0);
          const serverCpu = treeCpuSeconds(server.proc.pid!) - cpu0;
          const failures = results.filter((x): x is string => x !== undefined);
          const served = (results.length - failures.length) * bytes;
          const run: Run = {
            round: r,
            seconds: round(seconds, 3),
            mb_per_s: round(served / seconds / 1e6, 1),
            server_cpu_seconds: round(serverCpu, 2),
            server_cpu_seconds_per_gb: round(serverCpu / (served / 1e9), 3),
            client_cpu_seconds: round((client.user + client.system) / 1e6, 2),
            failures,
          };
          runs[name]![`c${c}`]!.push(run);
          log(
            `image: round ${r} ${name} ${c} concurrent: ${run.mb_per_s} MB/s in ${run.seconds} s${failures.length ? `, ${failures.length} FAILED: ${failures[0]}` : ''}`,
          );
        }
      } finally {
        await stopChild(server.proc);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const table = Object.fromEntries(
    names.map((n) => [
      n,
      Object.fromEntries(
        CONCURRENCY.map((c) => {
          const rs = runs[n]![`c${c}`]!;
          return [
            `c${c}`,
            {
              median_mb_per_s: median(rs.map((x) => x.mb_per_s)),
              median_seconds: median(rs.map((x) => x.seconds)),
              median_server_cpu_seconds_per_gb: median(rs.map((x) => x.server_cpu_seconds_per_gb)),
              median_client_cpu_seconds: median(rs.map((x) => x.client_cpu_seconds)),
              runs: rs,
            },
          ];
        }),
      ),
    ]),
  );
  const ok = names.every((n) => CONCURRENCY.every((c) => runs[n]![`c${c}`]!.every((x) => x.failures.length === 0)));
  const summary = CONCURRENCY.map((c) => {
    const m = (n: string) =>
      table[n]![`c${c}`] as { median_mb_per_s: number; median_server_cpu_seconds_per_gb: number };
    return (
      `image ${c} concurrent (${Math.ceil(PER_SCENARIO / c)} each) x ${round(bytes / 1e6, 1)} MB: metalflow ${m('metalflow').median_mb_per_s} MB/s ` +
      `(${m('metalflow').median_server_cpu_seconds_per_gb} CPU-s/GB), nginx ${m('nginx').median_mb_per_s} MB/s (${m('nginx').median_server_cpu_seconds_per_gb} CPU-s/GB)`
    );
  });
  return {
    name: 'image',
    ok,
    result: {
      file: IMAGE,
      bytes,
      sha256: expected,
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      downloads_per_scenario: PER_SCENARIO,
      client:
        'node http in the bench process (one thread), streaming SHA-256 per download; on 2 CPUs it competes with the server, so MB/s is partly client-bound',
      nginx: 'Debian nginx-light, worker_processes 1, sendfile on, access_log off',
      servers: table,
    },
    summary,
  };
}

/** One GET of the image; undefined when whole and correct, else what went wrong. */
function download(port: number, sha256: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const hash = crypto.createHash('sha256');
    const req = http.get({ host: '127.0.0.1', port, path: IMAGE, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(`HTTP ${res.statusCode}`);
      }
      res.on('data', (chunk: Buffer) => hash.update(chunk));
      res.on('end', () => {
        const got = hash.digest('hex');
        resolve(got === sha256 ? undefined : `sha256 ${got}`);
      });
      res.on('error', (err) => resolve(err.message));
    });
    req.on('error', (err) => resolve(err.message));
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
  });
}

async function startMetalflow(): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'image', 'serve.ts'), BOOT_ROOT], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`metalflow's HTTP boot server exited (${code})`)));
  });
  return { name: 'metalflow', proc, port };
}

async function startNginx(): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bench-nginx-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `daemon off;\nworker_processes 1;\nuser root;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  client_body_temp_path ${dir};\n  proxy_temp_path ${dir};\n  fastcgi_temp_path ${dir};\n  uwsgi_temp_path ${dir};\n  scgi_temp_path ${dir};\n` +
      `  server { listen 127.0.0.1:${port}; root ${BOOT_ROOT}; }\n}\n`,
  );
  const proc = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (up) return { name: 'nginx', proc, port };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-500)}`);
}
