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

  it('no boot root, or an empty one: no images', () => {
    assert.deepEqual(new BootResourceService(undefined).list(), []);
    assert.deepEqual(new BootResourceService(bootRoot([])).list(), []);
  });
});
