// boot-resources/ over the API with both kinds of image the builds write (issue 13 part 1): the
// real Debian root-tgz (images/rootfs), THE debian/bookworm, and the raw-disk stand-in for fast
// tests (images/os, custom/metalflow-standin). Only what a deploy can install is listed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { giveDisk, startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

function writeImage(root: string, tree: string, files: string[], manifest: Json): void {
  const dir = path.join(root, 'images', tree, 'debian', 'bookworm', 'amd64');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(dir, f), f);
  fs.writeFileSync(path.join(dir, 'metalflow.json'), JSON.stringify(manifest));
}

const standIn = {
  name: 'custom/metalflow-standin',
  title: 'metalflow stand-in for fast tests: Debian 12 kernel + busybox',
  architecture: 'amd64/generic',
  file: 'disk.img.gz',
  format: 'raw.gz',
  size: 11,
  sha256: 'a'.repeat(64),
  built: '2025-06-01T00:00:00Z',
};
const file = (filetype: string, size: number, c: string) => ({ filetype, size, sha256: c.repeat(64) });
const real = {
  name: 'debian/bookworm',
  title: 'Debian 12 (bookworm): systemd, cloud-init, openssh-server, GRUB (BIOS + UEFI)',
  architecture: 'amd64/generic',
  deployable: false,
  state: 'built; not deployable until the installer of issue 13 part 2 exists',
  file: 'root.tgz',
  format: 'root-tgz',
  size: 8,
  sha256: 'b'.repeat(64),
  files: {
    'root.tgz': file('root-tgz', 8, 'b'),
    vmlinuz: file('boot-kernel', 7, 'c'),
    'initrd.img': file('boot-initrd', 10, 'd'),
  },
  built: '2025-06-01T00:00:00Z',
};

describe('MAAS API: boot-resources/ lists only what a deploy can install, the real image first', () => {
  const bootRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-api-boot-resources-'));
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    writeImage(bootRoot, 'rootfs', ['root.tgz', 'vmlinuz', 'initrd.img'], real);
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities(), bootRoot });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
    fs.rmSync(bootRoot, { recursive: true, force: true });
  });

  const readyMachine = async () => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { architecture: 'amd64/generic', mac_addresses: '52:54:00:bd:00:01', power_type: 'manual' },
    });
    assert.equal(r.status, 200, r.text);
    const systemId = (r.body as Json).system_id as string;
    await waitForStatus(region.services, systemId, S.READY);
    return systemId;
  };

  it('with only the real image: THE deployable debian/bookworm, with its three files; a deploy takes it', async () => {
    const list = await api.call('GET', '/MAAS/api/2.0/boot-resources/', { key: admin });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body, [
      {
        id: 1,
        type: 'Uploaded',
        name: 'debian/bookworm',
        architecture: 'amd64/generic',
        resource_uri: '/MAAS/api/2.0/boot-resources/1/',
        metalflow_deployable: true,
      },
    ]);
    const one = (await api.call('GET', '/MAAS/api/2.0/boot-resources/1/', { key: admin })).body as Json;
    const set = Object.values(one.sets as Record<string, Json>)[0]!;
    assert.equal(set.size, 25, 'the set is all its files');
    assert.deepEqual(
      Object.entries(set.files as Record<string, Json>).map(([k, f]) => [k, f.sha256, f.url]),
      [
        ['root-tgz', 'b'.repeat(64), '/images/rootfs/debian/bookworm/amd64/root.tgz'],
        ['boot-kernel', 'c'.repeat(64), '/images/rootfs/debian/bookworm/amd64/vmlinuz'],
        ['boot-initrd', 'd'.repeat(64), '/images/rootfs/debian/bookworm/amd64/initrd.img'],
      ],
    );
    // The manifest's stale `deployable: false` (written before the installer existed) is not read.
    assert.deepEqual((one.metalflow as Json).deployable, true);
    assert.doesNotMatch(JSON.stringify(one), /not deployable/);

    const id = await readyMachine();
    const before = await region.services.db.query('SELECT status, owner_id FROM machines WHERE system_id = $1', [id]);
    const refused = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, {
      key: admin,
      form: { distro_series: 'trixie' },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.match(
      refused.text,
      /distro_series.*'trixie' is not a boot resource this region has; choose one of: debian\/bookworm\./,
    );
    assert.deepEqual(
      await region.services.db.query('SELECT status, owner_id FROM machines WHERE system_id = $1', [id]),
      before,
      'nothing written',
    );
    // A real image is installed on the machine's storage, which a deploy checks first.
    await giveDisk(region.services, id);
    const r = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, { key: admin, form: {} });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([(r.body as Json).osystem, (r.body as Json).distro_series], ['debian', 'bookworm']);
  });

  it('with the stand-in too: the real image stays first and the default; the stand-in is custom/metalflow-standin', async () => {
    const dir = path.join(bootRoot, 'images', 'os', 'custom', 'metalflow-standin', 'amd64');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'disk.img.gz'), 'disk.img.gz');
    fs.writeFileSync(path.join(dir, 'metalflow.json'), JSON.stringify(standIn));
    // A format no installer of metalflow's takes: never listed.
    const squash = path.join(bootRoot, 'images', 'rootfs', 'ubuntu', 'noble', 'amd64');
    fs.mkdirSync(squash, { recursive: true });
    fs.writeFileSync(path.join(squash, 'root.squashfs'), 'x');
    fs.writeFileSync(
      path.join(squash, 'metalflow.json'),
      JSON.stringify({ file: 'root.squashfs', format: 'squashfs', sha256: 'e'.repeat(64) }),
    );
    await new Promise((r) => setTimeout(r, 2_100)); // the service re-reads the boot root after 2 s
    const list = (await api.call('GET', '/MAAS/api/2.0/boot-resources/', { key: admin })).body as Json[];
    assert.deepEqual(
      list.map((r) => [r.id, r.name, r.metalflow_deployable]),
      [
        [1, 'debian/bookworm', true],
        [2, 'custom/metalflow-standin', true],
      ],
    );
    const standInDetail = (await api.call('GET', '/MAAS/api/2.0/boot-resources/2/', { key: admin })).body as Json;
    assert.match(standInDetail.title as string, /stand-in for fast tests/i);
    assert.match((standInDetail.metalflow as Json).role as string, /^stand-in for fast tests/);
    assert.equal(region.services.bootResources.resolve('')?.name, 'debian/bookworm', 'the default deploy');
    assert.equal(region.services.bootResources.resolve('bookworm')?.sha256, 'b'.repeat(64));
    assert.equal(region.services.bootResources.resolve('custom/metalflow-standin')?.sha256, 'a'.repeat(64));
  });
});
