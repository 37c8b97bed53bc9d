// The container image and compose file (issue 18 item 4), checked without a Docker engine:
// tools/compose-check loads docker-compose.yml with compose-go (the loader `docker compose` uses)
// and parses the Dockerfile with BuildKit's parser, checking what would otherwise fail only at
// `docker compose up` (see its header). Broken copies of both must fail. And the lock file must be
// one `npm ci` (the Dockerfile's install) accepts. `scripts/bootstrap.mjs --test` fetches the
// tool's Go modules and warms the build cache, so the build here is quick and offline.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/contracts/workflows';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOL_DIR = path.join(ROOT, 'tools', 'compose-check');
const COMPOSE = path.join(ROOT, 'docker-compose.yml');
/** h3's search attributes (issue 21), which the compose file registers ahead of their code. */
const NEW_SEARCH_ATTRIBUTES = ['Owner', 'Operation'];

const SECRETS = {
  METALFLOW_DB_PASSWORD: `db-${process.pid}`,
  METALFLOW_SECRET_KEY: `key-${process.pid}`,
  METALFLOW_RACK_SECRET: `rack-${process.pid}`,
};

interface Service {
  command?: string[];
  entrypoint?: string[];
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string>; entitlements?: string[] };
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  ports?: Array<{ target: number; published?: string; host_ip?: string }>;
}
interface Build {
  dockerfile: string;
  stages: string[];
  reached: string[];
  insecure: string[];
  copied: string[];
}
interface Checked {
  code: number | null;
  stderr: string;
  services: Record<string, Service>;
  builds: Record<string, Build>;
}

let tool = '';
let scratch = '';

/** Runs compose-check on `file` with exactly `env` (plus PATH), from the repository as project directory. */
function check(file: string, env: Record<string, string> = SECRETS): Checked {
  const r = spawnSync(tool, ['-project-directory', ROOT, file], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const out =
    r.status === 0 ? (JSON.parse(r.stdout) as { project: { services: Record<string, Service> } } & Checked) : null;
  return { code: r.status, stderr: r.stderr, services: out?.project.services ?? {}, builds: out?.builds ?? {} };
}

/** A copy of a file of the repository with `from` replaced (which must be there) by `to`. */
function broken(name: string, from: string, to: string): string {
  const text = fs.readFileSync(path.join(ROOT, name), 'utf8');
  assert.ok(text.includes(from), `${name} no longer contains ${JSON.stringify(from)}: update this test`);
  const file = path.join(fs.mkdtempSync(path.join(scratch, 'case-')), name);
  fs.writeFileSync(file, text.replace(from, to));
  return file;
}

/** The compose file with its region/rack build using `dockerfile` (an absolute path). */
function composeWithDockerfile(dockerfile: string): string {
  return broken('docker-compose.yml', 'dockerfile: Dockerfile', `dockerfile: ${dockerfile}`);
}

describe('container image and compose file (compose-go + BuildKit parser, no engine)', () => {
  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-check-'));
    tool = path.join(scratch, 'compose-check');
    execFileSync('go', ['build', '-o', tool, '.'], { cwd: TOOL_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('loads docker-compose.yml: region and rack are the HA tests’ commands, built from the Dockerfile, nothing installed at start', () => {
    const r = check(COMPOSE);
    assert.equal(r.code, 0, r.stderr);
    const { services } = r;
    assert.deepEqual(Object.keys(services).sort(), [
      'postgres',
      'rack',
      'region',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
    ]);
    assert.deepEqual(services.region!.command, ['node', 'bin/metalflow.js', 'region']);
    assert.deepEqual(services.rack!.command, ['node', 'bin/metalflow.js', 'rack']);
    for (const name of ['region', 'rack']) {
      const s = services[name]!;
      assert.equal(s.entrypoint ?? null, null, `${name}: the image's entrypoint stays plain`);
      assert.equal(s.build?.dockerfile, 'Dockerfile');
      assert.equal(s.build?.context, ROOT);
      assert.ok(!JSON.stringify(s).includes('npm '), `${name} runs npm at start`);
      assert.equal(s.environment?.METALFLOW_RACK_SECRET, SECRETS.METALFLOW_RACK_SECRET);
      assert.equal(s.environment?.METALFLOW_STATE_DIR, '/var/lib/metalflow');
    }
    // Secrets come from the environment, not the file.
    assert.equal(
      services.region!.environment?.DATABASE_URL,
      `postgres://metalflow:${SECRETS.METALFLOW_DB_PASSWORD}@postgres:5432/metalflow`,
    );
    assert.equal(services.region!.environment?.METALFLOW_SECRET_KEY, SECRETS.METALFLOW_SECRET_KEY);
    assert.equal(services.postgres!.environment?.POSTGRES_PASSWORD, SECRETS.METALFLOW_DB_PASSWORD);
    assert.equal(services.temporal!.environment?.POSTGRES_PWD, SECRETS.METALFLOW_DB_PASSWORD);
    for (const name of ['postgres', 'temporal', 'region', 'rack'])
      assert.ok(services[name]!.healthcheck?.test.length, `${name} has no healthcheck`);
    assert.equal(services.region!.depends_on?.['temporal-namespace']?.condition, 'service_completed_successfully');
    assert.equal(services.temporal!.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
    assert.equal(services.rack!.depends_on?.region?.condition, 'service_healthy');
    assert.match(services.temporal!.image ?? '', /^temporalio\/server:/);
    assert.match(services['temporal-ui']!.image ?? '', /^temporalio\/ui:/);
    assert.match(services['temporal-schema']!.image ?? '', /^temporalio\/admin-tools:/);
    assert.deepEqual(services['temporal-schema']!.command, ['schema']);
    assert.deepEqual(services['temporal-namespace']!.command, ['namespace']);
  });

  it('registers every search attribute the workflows set, Owner and Operation included', () => {
    const r = check(COMPOSE);
    assert.equal(r.code, 0, r.stderr);
    const registered = (r.services['temporal-namespace']!.environment?.SEARCH_ATTRIBUTES ?? '').split(/\s+/);
    for (const name of [...SEARCH_ATTRIBUTE_NAMES, ...NEW_SEARCH_ATTRIBUTES])
      assert.ok(registered.includes(name), `${name} is not registered (${registered.join(' ')})`);
  });

  it('publishes only the API on every interface: Temporal (no authentication) and its UI on loopback', () => {
    const r = check(COMPOSE);
    assert.equal(r.code, 0, r.stderr);
    const published = Object.entries(r.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => `${name} ${p.host_ip ?? ''}:${p.published}:${p.target}`),
    );
    assert.deepEqual(published.sort(), [
      'region :5240:5240',
      'temporal 127.0.0.1:7233:7233',
      'temporal-ui 127.0.0.1:8080:8080',
    ]);
    // The rack (host networking, same host) reaches Temporal there.
    assert.equal(r.services.rack!.environment?.TEMPORAL_ADDRESS, '127.0.0.1:7233');
  });

  it('builds the boot images in the image: the Debian image privileged by default, left out with METALFLOW_DEBIAN_IMAGE=none', () => {
    const full = check(COMPOSE);
    assert.equal(full.code, 0, full.stderr);
    const build = full.builds.region!;
    assert.ok(build.reached.includes('ephemeral') && build.reached.includes('boot-build'), build.reached.join(' '));
    assert.deepEqual(build.insecure, ['boot-build']);
    for (const copied of build.copied) assert.ok(fs.existsSync(path.join(ROOT, copied)), copied);

    const unprivileged = check(COMPOSE, { ...SECRETS, METALFLOW_DEBIAN_IMAGE: 'none' });
    assert.equal(unprivileged.code, 0, unprivileged.stderr);
    assert.ok(unprivileged.builds.region!.reached.includes('ephemeral'));
    assert.ok(!unprivileged.builds.region!.reached.includes('boot-build'));
    assert.deepEqual(unprivileged.builds.region!.insecure, []);

    const typo = check(COMPOSE, { ...SECRETS, METALFLOW_DEBIAN_IMAGE: 'yes' });
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /FROM "boot-yes" is neither a stage/);
  });

  it('refuses to load without the secrets, naming each', () => {
    const r = check(COMPOSE, {});
    assert.equal(r.code, 1);
    for (const name of Object.keys(SECRETS)) assert.match(r.stderr, new RegExp(`required variable ${name} is missing`));
  });

  it('fails on a broken compose file', () => {
    const unknownDependency = check(
      broken('docker-compose.yml', 'region: { condition: service_healthy }', 'regoin: { condition: service_healthy }'),
    );
    assert.equal(unknownDependency.code, 1);
    assert.match(unknownDependency.stderr, /regoin/);

    const badKey = check(
      broken(
        'docker-compose.yml',
        '    healthcheck:\n      test: ["CMD", "nc"',
        '    healthcheck:\n      tset: ["CMD", "nc"',
      ),
    );
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /tset/);

    const missingMount = check(broken('docker-compose.yml', './deploy/postgres-init.sql', './deploy/postgres-init.sq'));
    assert.equal(missingMount.code, 1);
    assert.match(missingMount.stderr, /bind mount source .*postgres-init\.sq does not exist/);

    const unentitled = check(broken('docker-compose.yml', '    entitlements: [security.insecure]\n', ''));
    assert.equal(unentitled.code, 1);
    assert.match(unentitled.stderr, /stage boot-build runs RUN --security=insecure but the build is not granted/);
  });

  it('fails on a broken Dockerfile', () => {
    const missingCopy = broken('Dockerfile', 'COPY images/installer/', 'COPY images/instaler/');
    let r = check(composeWithDockerfile(missingCopy));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /COPY source images\/instaler\/ does not exist/);

    const syntax = broken(
      'Dockerfile',
      'WORKDIR /srv/metalflow\nCOPY package.json',
      'WROKDIR /srv/metalflow\nCOPY package.json',
    );
    r = check(composeWithDockerfile(syntax));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrokdir/i);

    const undeclaredArg = broken('Dockerfile', 'ARG DEBIAN_IMAGE=build\n', '');
    r = check(composeWithDockerfile(undeclaredArg));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /build arg DEBIAN_IMAGE is not declared/);

    const unknownStage = broken('Dockerfile', 'COPY --from=deps ', 'COPY --from=dep ');
    r = check(composeWithDockerfile(unknownStage));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /COPY --from "dep" is neither a stage/);

    // RUN --security is stable Dockerfile syntax from 1.20 on: an older pinned frontend refuses it.
    const oldSyntax = broken('Dockerfile', '# syntax=docker/dockerfile:1\n', '# syntax=docker/dockerfile:1.7\n');
    r = check(composeWithDockerfile(oldSyntax));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /RUN --security is in the Dockerfile syntax from 1\.20 on/);

    // BuildKit reads <Dockerfile>.dockerignore before the context's: one that drops src/ breaks the COPY.
    const dockerfile = broken('Dockerfile', '# syntax=', '# syntax=');
    fs.writeFileSync(`${dockerfile}.dockerignore`, 'src/\n');
    r = check(composeWithDockerfile(dockerfile));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /COPY source src is excluded by \.dockerignore/);
  });

  it('has a lock file `npm ci` accepts (the image installs with it)', () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'npm-ci-'));
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    // --dry-run --offline: npm compares package.json with the lock (what refused the old lock:
    // "Missing: @swc/core-darwin-arm64@… from lock file") without fetching or writing anything.
    const r = spawnSync('npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules')));
  });
});
