import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BootResourceService } from '../../src/region/services/boot-resources';

function bootRoot(images: Array<{ dir: string; manifest?: object; file?: boolean }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-boot-resources-'));
  for (const image of images) {
    const dir = path.join(root, 'images', 'os', image.dir);
    fs.mkdirSync(dir, { recursive: true });
    if (image.manifest) fs.writeFileSync(path.join(dir, 'metalflow.json'), JSON.stringify(image.manifest));
    if (image.file !== false) fs.writeFileSync(path.join(dir, 'disk.img.gz'), 'x');
  }
  return root;
}

const manifest = (sha: string) => ({
  file: 'disk.img.gz',
  sha256: sha,
  size: 1,
  raw_size: 64,
  raw_sha256: 'r',
  title: 't',
  built: '2025-01-02T03:04:05Z',
});

describe('boot resources (manifests under the boot root)', () => {
  it('lists images in name order with MAAS names, and resolves a distro_series by series, os/series or default', () => {
    const root = bootRoot([
      { dir: 'ubuntu/noble/amd64', manifest: manifest('b') },
      { dir: 'debian/bookworm/amd64', manifest: manifest('a') },
      { dir: 'debian/trixie/amd64' }, // no manifest: not built yet
      { dir: 'debian/sid/amd64', manifest: manifest('c'), file: false }, // manifest without its file
    ]);
    const s = new BootResourceService(root);
    assert.deepEqual(
      s.list().map((r) => [r.id, r.name, r.architecture, r.path]),
      [
        [1, 'debian/bookworm', 'amd64/generic', '/images/os/debian/bookworm/amd64/disk.img.gz'],
        [2, 'ubuntu/noble', 'amd64/generic', '/images/os/ubuntu/noble/amd64/disk.img.gz'],
      ],
    );
    assert.equal(s.resolve('bookworm')?.sha256, 'a');
    assert.equal(s.resolve('ubuntu/noble')?.sha256, 'b');
    assert.equal(s.resolve('')?.name, 'debian/bookworm', 'the default is the first');
    assert.equal(s.resolve('jammy'), undefined);
    assert.equal(s.resolve('bookworm', 'arm64'), undefined);
    assert.equal(s.get(2).os, 'ubuntu');
    assert.throws(() => s.get(9), /No BootResource/);
  });

  it('finds the image a deployment resolved to by its exact os/series, not by a series two OSes share', () => {
    const root = bootRoot([
      { dir: 'custom/stable/amd64', manifest: manifest('custom') },
      { dir: 'debian/stable/amd64', manifest: manifest('debian') },
    ]);
    const s = new BootResourceService(root);
    const resolved = s.resolve('debian/stable')!;
    assert.equal(s.resolve(resolved.series)?.sha256, 'custom', 'by series alone: the wrong image');
    assert.equal(s.named(`${resolved.os}/${resolved.series}`)?.sha256, 'debian');
    assert.equal(s.named('stable'), undefined);
    assert.equal(s.named('debian/stable', 'arm64'), undefined);
  });

  it('lists the real root-tgz image first (the default), the raw stand-in after, and no format nothing installs', () => {
    const root = bootRoot([
      { dir: 'custom/metalflow-standin/amd64', manifest: { ...manifest('standin'), format: 'raw.gz' } },
      { dir: 'ubuntu/noble/amd64', manifest: { ...manifest('squash'), format: 'squashfs' } },
    ]);
    const rootfs = path.join(root, 'images', 'rootfs', 'debian', 'bookworm', 'amd64');
    fs.mkdirSync(rootfs, { recursive: true });
    for (const f of ['root.tgz', 'vmlinuz', 'initrd.img']) fs.writeFileSync(path.join(rootfs, f), 'x');
    const file = (filetype: string, sha256: string) => ({ filetype, size: 1, sha256 });
    fs.writeFileSync(
      path.join(rootfs, 'metalflow.json'),
      JSON.stringify({
        name: 'debian/bookworm',
        file: 'root.tgz',
        format: 'root-tgz',
        sha256: 'real',
        size: 1,
        // What builds before the installer wrote: metalflow decides what it can deploy, not this.
        deployable: false,
        state: 'built; not deployable until the installer exists',
        files: {
          'root.tgz': file('root-tgz', 'real'),
          vmlinuz: file('boot-kernel', 'k'),
          'initrd.img': file('boot-initrd', 'i'),
        },
      }),
    );
    const s = new BootResourceService(root);
    assert.deepEqual(
      s.list().map((r) => [r.id, r.name, r.filetype, r.deployable, r.role]),
      [
        [1, 'debian/bookworm', 'root-tgz', true, 'deployable'],
        [
          2,
          'custom/metalflow-standin',
          'root-dd.gz',
          true,
          'stand-in for fast tests: kernel + busybox, no sshd, no cloud-init',
        ],
      ],
    );
    assert.match(s.get(2).title, /^Stand-in for fast tests: /);
    assert.deepEqual(
      s.get(1).files.map((f) => [f.filetype, f.sha256, f.path]),
      [
        ['root-tgz', 'real', '/images/rootfs/debian/bookworm/amd64/root.tgz'],
        ['boot-kernel', 'k', '/images/rootfs/debian/bookworm/amd64/vmlinuz'],
        ['boot-initrd', 'i', '/images/rootfs/debian/bookworm/amd64/initrd.img'],
      ],
    );
    assert.equal(s.resolve('')?.sha256, 'real', 'the default deploy is the real image');
    assert.equal(s.resolve('bookworm')?.sha256, 'real');
    assert.equal(s.named('debian/bookworm')?.sha256, 'real');
    assert.equal(s.resolve('custom/metalflow-standin')?.sha256, 'standin', 'the stand-in only when named');
    assert.equal(s.resolve('noble'), undefined, 'squashfs: nothing installs it');
  });

  it('no boot root, or an empty one: no images', () => {
    assert.deepEqual(new BootResourceService(undefined).list(), []);
    assert.deepEqual(new BootResourceService(bootRoot([])).list(), []);
  });
});
