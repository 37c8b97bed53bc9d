// A boot root with deployable-image manifests (images/os/<os>/<series>/amd64/metalflow.json), as
// images/os/build.sh writes them: for tests that need the region to know some images.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `names`: `os/series`, e.g. debian/bookworm. */
export function bootRootWith(names: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-test-images-'));
  for (const name of names) {
    const dir = path.join(root, 'images', 'os', name, 'amd64');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'disk.img.gz'), 'x');
    const manifest = {
      file: 'disk.img.gz',
      sha256: `sha-${name}`,
      size: 1,
      title: name,
      built: '2026-01-02T03:04:05Z',
    };
    fs.writeFileSync(path.join(dir, 'metalflow.json'), JSON.stringify(manifest));
  }
  return root;
}

/**
 * A boot root whose debian/bookworm is a deployable root-tgz image (a one-byte stand-in for the
 * archive), as images/debian/build.sh lays the real one out: for tests of the real-image deploy
 * path that never boot it.
 */
export function bootRootWithRootTgz(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-test-rootfs-'));
  const dir = path.join(root, 'images', 'rootfs', 'debian', 'bookworm', 'amd64');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'root.tgz'), 'x');
  fs.writeFileSync(
    path.join(dir, 'metalflow.json'),
    JSON.stringify({ file: 'root.tgz', format: 'root-tgz', sha256: 'a'.repeat(64), size: 1, deployable: true }),
  );
  return root;
}
