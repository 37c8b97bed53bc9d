// The real Debian image (images/debian/build.sh, built by bootstrap into build/boot/images/rootfs)
// holds what a deployed MAAS machine needs (issue 13, must-have 1): its manifest's hashes and
// sizes match the files, and the root filesystem archive has systemd as /sbin/init, sshd,
// cloud-init with the MAAS datasource configured, GRUB for BIOS and UEFI, the kernel and initrd
// the manifest ships beside it, and the LVM/RAID/filesystem tools the installer uses. Read with
// GNU tar; nothing is booted (bench/debian-boot.sh boots it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'build', 'boot', 'images', 'rootfs', 'debian', 'bookworm', 'amd64');
const ARCHIVE = path.join(DIR, 'root.tgz');

interface Manifest {
  name: string;
  deployable: boolean;
  format: string;
  file: string;
  sha256: string;
  size: number;
  kernel_version: string;
  inputs_sha256: string;
  packages: Record<string, string>;
  files: Record<string, { filetype: string; size: number; sha256: string }>;
}

interface Entry {
  type: string;
  link?: string;
}

const sha256File = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/** The archive's entries by path (`usr/sbin/init`), from `tar -tv`: type letter and link target. */
async function listArchive(): Promise<Map<string, Entry>> {
  const { stdout } = await run('tar', ['-tvzf', ARCHIVE, '--quoting-style=literal'], { maxBuffer: 256 << 20 });
  const entries = new Map<string, Entry>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S)\S*\s+\S+\s+\d+\s+\S+\s+\S+\s+\.\/(.*?)(?: -> (.*)| link to \.\/(.*))?$/.exec(line);
    const [, kind, name, link, hardLinkTo] = m ?? [];
    if (!kind || name === undefined) continue;
    entries.set(name.replace(/\/$/, ''), { type: hardLinkTo ? 'h' : kind, link });
  }
  return entries;
}

/** Follows symlinks (of the path's directories too) inside the archive, as the kernel would. */
function resolve(entries: Map<string, Entry>, wanted: string): string | undefined {
  const parts = wanted.split('/').filter(Boolean);
  let done: string[] = [];
  for (let hops = 0; parts.length && hops < 64;) {
    const next = [...done, parts.shift()!].join('/');
    const e = entries.get(next);
    if (!e) return undefined;
    if (e.type === 'l' && e.link) {
      hops++;
      const target = e.link.startsWith('/') ? e.link : path.posix.join(done.join('/'), e.link);
      parts.unshift(...path.posix.normalize(target).split('/').filter(Boolean));
      done = [];
    } else done = next.split('/');
  }
  return parts.length ? undefined : done.join('/');
}

const readFromArchive = async (member: string) =>
  (await run('tar', ['-xzOf', ARCHIVE, `./${member}`], { maxBuffer: 64 << 20, encoding: 'buffer' })).stdout;

describe('the real Debian image (root-tgz + kernel + initrd + manifest)', { timeout: 5 * 60_000 }, () => {
  let manifest: Manifest;
  let entries: Map<string, Entry>;
  const isFile = (p: string) => {
    const real = resolve(entries, p);
    return real !== undefined && ['-', 'h'].includes(entries.get(real)!.type);
  };

  before(async () => {
    assert.ok(
      fs.existsSync(path.join(DIR, 'metalflow.json')),
      `no image in ${DIR}: bootstrap (as root) builds it with images/debian/build.sh`,
    );
    manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'metalflow.json'), 'utf8')) as Manifest;
    entries = await listArchive();
  });

  it('the manifest lists each file with the SHA-256 and size it really has', async () => {
    assert.equal(manifest.name, 'debian/bookworm');
    assert.equal(manifest.format, 'root-tgz');
    assert.equal(manifest.deployable, false, 'not deployable until the installer exists');
    assert.deepEqual(Object.keys(manifest.files).sort(), ['initrd.img', 'root.tgz', 'vmlinuz']);
    for (const [name, f] of Object.entries(manifest.files)) {
      const file = path.join(DIR, name);
      assert.equal(fs.statSync(file).size, f.size, `${name} size`);
      assert.equal(await sha256File(file), f.sha256, `${name} sha256`);
    }
    assert.equal(manifest.sha256, manifest.files[manifest.file]?.sha256);
    assert.match(manifest.inputs_sha256, /^[0-9a-f]{64}$/);
    for (const pkg of ['systemd', 'openssh-server', 'cloud-init', 'grub-pc-bin', 'grub-efi-amd64-bin', 'lvm2', 'mdadm'])
      assert.match(manifest.packages[pkg] ?? '', /\d/, `${pkg} with its version`);
  });

  it('boots with systemd: /sbin/init is systemd, and the kernel and initrd are the shipped ones', async () => {
    assert.equal(resolve(entries, 'sbin/init'), 'usr/lib/systemd/systemd');
    const kernel = `boot/vmlinuz-${manifest.kernel_version}`;
    const initrd = `boot/initrd.img-${manifest.kernel_version}`;
    assert.ok(isFile(kernel) && isFile(initrd), `${kernel} and ${initrd} in the tree`);
    const digest = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    assert.equal(digest(await readFromArchive(kernel)), manifest.files.vmlinuz?.sha256);
    assert.equal(digest(await readFromArchive(initrd)), manifest.files['initrd.img']?.sha256);
    assert.ok(entries.has(`usr/lib/modules/${manifest.kernel_version}/modules.dep`), 'the modules, depmod run');
  });

  it('has sshd, and no host keys (each machine makes its own)', () => {
    assert.ok(isFile('usr/sbin/sshd'));
    assert.ok(isFile('etc/systemd/system/ssh.service.d/metalflow-host-keys.conf'));
    assert.deepEqual(
      [...entries.keys()].filter((p) => p.startsWith('etc/ssh/ssh_host_')),
      [],
    );
  });

  it('has cloud-init with the MAAS datasource configured', async () => {
    assert.ok(isFile('usr/bin/cloud-init'));
    assert.ok(
      [...entries.keys()].some((p) =>
        /^usr\/lib\/python3\/dist-packages\/cloudinit\/sources\/DataSourceMAAS\.py$/.test(p),
      ),
      'the MAAS datasource module',
    );
    const cfg = (await readFromArchive('etc/cloud/cloud.cfg.d/90_metalflow_datasources.cfg')).toString();
    assert.match(cfg, /^datasource_list: \[ MAAS, NoCloud, None \]$/m);
    assert.ok(
      isFile('usr/sbin/netplan') || isFile('usr/share/netplan/netplan.script'),
      'netplan renders its network config',
    );
  });

  it('has GRUB for BIOS (i386-pc) and UEFI (x86_64-efi, with shim)', () => {
    assert.ok(isFile('usr/sbin/grub-install') && isFile('usr/sbin/update-grub'));
    assert.ok(isFile('usr/lib/grub/i386-pc/boot.img') && isFile('usr/lib/grub/i386-pc/part_gpt.mod'));
    assert.ok(isFile('usr/lib/grub/x86_64-efi/part_gpt.mod') && isFile('usr/lib/grub/x86_64-efi/ext2.mod'));
    assert.ok(isFile('usr/lib/shim/shimx64.efi.signed'), 'shim for Secure Boot');
    assert.ok(isFile('usr/bin/efibootmgr'));
  });

  it('has the storage tools the installer runs: LVM, md RAID, ext4, FAT', () => {
    for (const tool of ['sbin/lvm', 'sbin/mdadm', 'sbin/mkfs.ext4', 'sbin/mkfs.vfat', 'sbin/sfdisk', 'sbin/sgdisk'])
      assert.ok(isFile(tool), tool);
  });

  it('ships no apt lists or caches, and no machine identity', async () => {
    const leftovers = [...entries.keys()].filter(
      (p) => /^var\/lib\/apt\/lists\/[^/]+_Packages/.test(p) || /^var\/cache\/apt\/.*\.(bin|deb)$/.test(p),
    );
    assert.deepEqual(leftovers, []);
    assert.equal((await readFromArchive('etc/machine-id')).length, 0);
  });
});
