// The images machines boot and deploy are reproducible (issues 3 and 5): a fresh build elsewhere
// gives the very bytes that bootstrap built into build/boot (what the rack serves and the region
// lists), and a build script's --verify builds twice and compares. --verify runs for one image
// only: its two builds and bootstrap's are three builds that agree, where a plain build and
// bootstrap's are already two; each build here takes about a minute.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const BOOT = path.join(ROOT, 'build', 'boot', 'images');
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('image builds are reproducible', { timeout: 5 * 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-image-verify-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const build = async (script: string, out: string, o: { verify: boolean }) => {
    const r = await run('bash', [path.join(ROOT, 'images', script), ...(o.verify ? ['--verify'] : []), out], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    });
    if (o.verify) assert.match(r.stdout + r.stderr, /reproducible: a second build gave the same bytes/);
  };

  it('the ephemeral environment (kernel + initramfs)', async () => {
    const out = path.join(dir, 'ephemeral');
    await build('ephemeral/build.sh', out, { verify: false });
    for (const f of ['vmlinuz', 'initrd.gz'])
      assert.equal(sha256(path.join(out, f)), sha256(path.join(BOOT, 'ephemeral', 'amd64', f)), f);
  });

  it('the stand-in for fast tests custom/metalflow-standin, with the checksum its manifest lists', async () => {
    const out = path.join(dir, 'os');
    await build('os/build.sh', out, { verify: true });
    const built = sha256(path.join(out, 'disk.img.gz'));
    assert.equal(built, sha256(path.join(BOOT, 'os', 'custom', 'metalflow-standin', 'amd64', 'disk.img.gz')));
    assert.equal(fs.readFileSync(path.join(out, 'disk.img.gz.sha256'), 'utf8').split(/\s+/)[0], built);
    assert.ok(
      fs.readFileSync(path.join(out, 'metalflow.json'), 'utf8').includes(built),
      'the manifest names the checksum',
    );
  });
});
