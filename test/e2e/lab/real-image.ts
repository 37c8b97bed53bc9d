// What the real-image e2e files share (BIOS: real-image.test.ts, UEFI: real-image-uefi.test.ts):
// a boot root holding the real Debian image as the deployable debian/bookworm, the owner's SSH key,
// enlisting + commissioning + deploying the lab's VM with it, and SSH into the deployed OS.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BootloaderStallWatch } from './bootloader-stall';
import { ROOT, VM, waitForMachine, type Json, type Lab } from './lab';

const execFileAsync = promisify(execFile);

export const REAL_IMAGE = path.join(ROOT, 'build/boot/images/rootfs/debian/bookworm/amd64');
export const USER_DATA = '#!/bin/sh\necho "metalflow user-data ran on $(hostname)" >/var/tmp/metalflow-user-data\n';

/** Hard links where the filesystem allows (root.tgz is 250+ MB), else a copy. */
function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/**
 * The lab's own boot root: the ephemeral environment of this tree (images/ephemeral/build.sh, which
 * holds the installer's tools, built or found up to date in build/boot, then linked in) and the
 * real image's files with a manifest that makes it the deployable debian/bookworm (the shared
 * build/boot keeps the stand-in for deploy.test.ts). Its tftp directory is the rack's to fill: the
 * rack copies iPXE's loaders into its boot root when it starts (src/rack/boot/firmware.ts), so
 * nothing here depends on another rack having run on build/boot first.
 */
export function bootRootWithRealImage(): string {
  assert.ok(fs.existsSync(path.join(REAL_IMAGE, 'root.tgz')), 'the real image is built (images/debian/build.sh)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-e2e-real-'));
  execFileSync(path.join(ROOT, 'images/ephemeral/build.sh'), [], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const f of ['vmlinuz', 'initrd.gz'])
    linkOrCopy(path.join(ROOT, 'build/boot/images/ephemeral/amd64', f), path.join(root, 'images/ephemeral/amd64', f));
  const dir = path.join(root, 'images/rootfs/debian/bookworm/amd64');
  for (const f of ['root.tgz', 'vmlinuz', 'initrd.img']) linkOrCopy(path.join(REAL_IMAGE, f), path.join(dir, f));
  const manifest = JSON.parse(fs.readFileSync(path.join(REAL_IMAGE, 'metalflow.json'), 'utf8')) as Json;
  delete manifest.state;
  fs.writeFileSync(path.join(dir, 'metalflow.json'), JSON.stringify({ ...manifest, deployable: true }));
  return root;
}

/** A directory holding the owner's new SSH key pair (`key`, `key.pub`). */
export function ownerKeyDir(): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-e2e-real-key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e-owner', '-f', path.join(work, 'key')]);
  return work;
}

/**
 * Where the deployed VM answers SSH: the addresses the API gives the machine (its boot interface's
 * AUTO address, claimed at deploy and configured statically by cloud-init), else the one host of
 * the rack's dynamic range with SSH (a DHCP-configured deployment).
 */
export async function sshHost(lab: Lab, id: string): Promise<string | undefined> {
  const m = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
  const known = ((m.ip_addresses as string[] | undefined) ?? []).filter((ip) => ip.startsWith('10.77.0.'));
  const candidates = [...known, ...Array.from({ length: 51 }, (_, i) => `10.77.0.${100 + i}`)];
  const probes = candidates.map(
    (host) =>
      new Promise<string | undefined>((resolve) => {
        const s = net.connect({ host, port: 22, timeout: 1000 });
        s.once('connect', () => (s.destroy(), resolve(host)));
        s.once('timeout', () => (s.destroy(), resolve(undefined)));
        s.once('error', () => resolve(undefined));
      }),
  );
  return (await Promise.all(probes)).find(Boolean);
}

/**
 * Enlist the VM by hand (IPMI through the lab's BMC), commission it (which lays out the default
 * storage for the firmware it booted with), give the owner's key to the account and deploy the real
 * image with USER_DATA; resolves once cloud-init's final report made it Deployed, with its system_id
 * and its events as `type: description` lines, after checking the installer's steps are among them.
 */
export async function commissionAndDeploy(
  lab: Lab,
  o: {
    hostname: string;
    keyDir: string;
    /** Runs on the Ready machine before deploy (storage or network set up through the API). */
    beforeDeploy?: (id: string) => Promise<void>;
    /** Installer steps to find among the events besides the ones every deploy has. */
    steps?: string[];
  },
): Promise<{ id: string; events: string[] }> {
  const r = await lab.stack.call('POST', '/machines/', {
    architecture: 'amd64/generic',
    mac_addresses: VM.mac,
    hostname: o.hostname,
    power_type: 'ipmi',
    ...Object.fromEntries(Object.entries(lab.ipmiParams()).map(([k, v]) => [`power_parameters_${k}`, v])),
  });
  assert.equal(r.status, 200, r.text);
  const id = (r.body as Json).system_id as string;
  await waitForMachine(lab, id, 'Ready', 300_000);
  await o.beforeDeploy?.(id);

  const key = await lab.stack.call('POST', '/account/prefs/sshkeys/', {
    key: fs.readFileSync(path.join(o.keyDir, 'key.pub'), 'utf8').trim(),
  });
  assert.equal(key.status, 201, key.text);
  const d = await lab.stack.call('POST', `/machines/${id}/op-deploy`, {
    distro_series: 'debian/bookworm',
    user_data: Buffer.from(USER_DATA).toString('base64'),
  });
  assert.equal(d.status, 200, d.text);
  await waitForMachine(lab, id, 'Deployed', 30 * 60_000);

  const ev = ((await lab.stack.call('GET', `/events/?op=query&id=${id}&limit=500&level=DEBUG`)).body as Json)
    .events as Json[];
  const events = ev.map((e) => `${String(e.type)}: ${String(e.description)}`);
  for (const step of ['partition', 'format', 'unpack', 'fstab', 'cloud-init', 'bootloader', ...(o.steps ?? [])])
    assert.ok(
      events.some((l) => l.includes(`Installing: ${step}`)),
      `event for step ${step}:\n${events.join('\n')}`,
    );
  assert.ok(
    events.some((l) => /^cloudinit finish: modules-final/.test(l)),
    `cloud-init's final report:\n${events.join('\n')}`,
  );
  return { id, events };
}

/**
 * Wait for SSH on the deployed VM; then run commands there as the owner (`debian`, the owner's key).
 * Asynchronously: a synchronous ssh would block the event loop for seconds, and the next API call
 * would go out on a keep-alive socket the region had meanwhile closed ("fetch failed").
 */
export async function sshToDeployed(
  lab: Lab,
  keyDir: string,
  id: string,
): Promise<(command: string) => Promise<string>> {
  const host = await lab.until('SSH on the deployed VM', 180_000, () => sshHost(lab, id));
  return (command: string) => sshAs(keyDir, host, command);
}

/** One command over SSH as the owner (`debian`, the owner's key in keyDir); its trimmed stdout. */
export async function sshAs(keyDir: string, host: string, command: string): Promise<string> {
  return (
    await execFileAsync(
      'ssh',
      [
        ...['-i', path.join(keyDir, 'key'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'],
        ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'],
        `debian@${host}`,
        command,
      ],
      { encoding: 'utf8' },
    )
  ).stdout.trim();
}

/**
 * The owner reboots the deployed OS (`sudo systemctl reboot` over SSH) and it comes back on a new
 * boot (a new boot_id), found again wherever it now answers. The command's connection may drop
 * before it answers. A reboot that never took (the old boot still answering 3 minutes on) is
 * asked for once more, said in the test's output, and a timeout says which of the two it was: the
 * OS never went down, or it never came back. A guest stuck in GRUB on the way back gets its reset
 * button pressed once, also said in the output (bootloader-stall.ts).
 */
export async function rebootDeployed(
  lab: Lab,
  keyDir: string,
  id: string,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<{ bootId: string; ssh: (command: string) => Promise<string> }> {
  const host = await lab.until('SSH on the deployed VM', 180_000, () => sshHost(lab, id));
  const before = await sshAs(keyDir, host, 'cat /proc/sys/kernel/random/boot_id');
  const reboot = (h: string) =>
    sshAs(keyDir, h, 'sudo -n systemctl reboot').catch((err: { stderr?: string }) => {
      // The connection dropping as sshd stops is expected; anything else is worth seeing.
      if (err.stderr?.trim()) log(`reboot over SSH: ${err.stderr.trim()}`);
    });
  await reboot(host);
  const asked = Date.now();
  let askedAgain = false;
  let lastSeen = { at: asked, host, sameBoot: true };
  const wentDown = () => Date.now() - lastSeen.at > 1000 || !lastSeen.sameBoot;
  const stall = new BootloaderStallWatch(lab, log);
  const bootId = await lab
    .until('SSH after the reboot, on a new boot', timeoutMs, async () => {
      const h = await sshHost(lab, id);
      const now = h && (await sshAs(keyDir, h, 'cat /proc/sys/kernel/random/boot_id').catch(() => undefined));
      if (!h || !now) {
        if (wentDown()) await stall.check();
        return undefined;
      }
      lastSeen = { at: Date.now(), host: h, sameBoot: now === before };
      if (now !== before) return now;
      if (!askedAgain && Date.now() - asked > 180_000) {
        askedAgain = true;
        log(`the OS at ${h} still runs its old boot 3 minutes after the reboot was asked for: asking again`);
        await reboot(h);
      }
      return undefined;
    })
    .catch((err: Error) => {
      const seen = wentDown()
        ? 'the OS went down and never came back'
        : `the old boot still answers at ${lastSeen.host}`;
      throw new Error(`${seen}${stall.note ? ` (${stall.note})` : ''}: ${err.message}`);
    });
  const h = lastSeen.host;
  return { bootId, ssh: (command: string) => sshAs(keyDir, h, command) };
}
