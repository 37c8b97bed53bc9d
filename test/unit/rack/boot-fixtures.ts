// A boot root on disk for the boot server tests: images, loaders, and the symlinks an attacker
// (or a careless operator) might leave in it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BootRootFixture {
  dir: string;
  root: string;
  /** The file outside the root that escaping symlinks point at. */
  secret: string;
  kernel: Buffer;
  initrd: Buffer;
  loader: Buffer;
  remove(): void;
}

export const SECRET_TEXT = 'TOP-SECRET outside the boot root';

export function makeBootRoot(): BootRootFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-boot-'));
  const root = path.join(dir, 'boot');
  const images = path.join(root, 'images', 'ephemeral', 'amd64');
  fs.mkdirSync(images, { recursive: true });
  fs.mkdirSync(path.join(root, 'tftp'));
  fs.mkdirSync(path.join(dir, 'outside'));
  const secret = path.join(dir, 'outside', 'secret');
  fs.writeFileSync(secret, SECRET_TEXT);

  const kernel = crypto.randomBytes(300_000);
  const initrd = crypto.randomBytes(50_000);
  const loader = crypto.randomBytes(70_001); // not a multiple of any block size
  fs.writeFileSync(path.join(images, 'vmlinuz'), kernel);
  fs.writeFileSync(path.join(images, 'initrd.gz'), initrd);
  fs.writeFileSync(path.join(root, 'tftp', 'undionly.kpxe'), loader);
  fs.writeFileSync(path.join(root, 'tftp', 'ipxe.efi'), loader);
  fs.writeFileSync(path.join(root, 'tftp', 'empty.bin'), '');
  // Escapes: a file link and a directory link out of the root, in both served trees.
  fs.symlinkSync(secret, path.join(root, 'images', 'secret-link'));
  fs.symlinkSync(path.join(dir, 'outside'), path.join(root, 'images', 'outside-dir'));
  fs.symlinkSync(secret, path.join(root, 'tftp', 'secret-link'));
  fs.symlinkSync(path.join(dir, 'outside'), path.join(root, 'tftp', 'outside-dir'));
  // A link that stays inside is fine; one into the rest of the boot root is outside TFTP's tree.
  fs.symlinkSync('undionly.kpxe', path.join(root, 'tftp', 'loader-link'));
  fs.symlinkSync(path.join(images, 'vmlinuz'), path.join(root, 'tftp', 'kernel-link'));

  return { dir, root, secret, kernel, initrd, loader, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
