// A boot root for the lab holding the real Debian image (images/debian/build.sh) and the
// ephemeral environment built from this tree, and the deployed VM's SSH address: what the tests
// and benches that deploy the real image share.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lab';

export const REAL_IMAGE = path.join(ROOT, 'build/boot/images/rootfs/debian/bookworm/amd64');

/** Hard links where the filesystem allows (root.tgz is 250+ MB), else a copy. */
function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/** A fresh boot root (the caller removes it): TFTP loaders, ephemeral environment, real image. */
export function bootRootWithRealImage(prefix: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const f of fs.readdirSync(path.join(ROOT, 'build/boot/tftp')))
    linkOrCopy(path.join(ROOT, 'build/boot/tftp', f), path.join(root, 'tftp', f));
  execFileSync(path.join(ROOT, 'images/ephemeral/build.sh'), [path.join(root, 'images/ephemeral/amd64')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const dir = path.join(root, 'images/rootfs/debian/bookworm/amd64');
  for (const f of ['root.tgz', 'vmlinuz', 'initrd.img', 'metalflow.json'])
    linkOrCopy(path.join(REAL_IMAGE, f), path.join(dir, f));
  return root;
}

/** The address the VM leased from the rack: the one host of the dynamic range with SSH open. */
export async function sshHost(): Promise<string | undefined> {
  const probes = Array.from({ length: 51 }, (_, i) => `10.77.0.${100 + i}`).map(
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

/** `ssh -i key debian@host command` inside the lab namespace, its trimmed stdout. */
export function sshAs(key: string, host: string, command: string): string {
  return execFileSync(
    'ssh',
    [
      ...['-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'],
      ...['-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'],
      `debian@${host}`,
      command,
    ],
    { encoding: 'utf8' },
  ).trim();
}
