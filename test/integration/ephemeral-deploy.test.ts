// Ephemeral deploy (MAAS 3.5's ephemeral_deploy=true) through the API and the deploy workflow:
// only a root filesystem image can run from RAM (the raw stand-in is refused, naming the field);
// the machine's next netboot gets the image with `ephemeral`, there is no boot from disk, and the
// running OS's cloud-init final report makes it DEPLOYED; the machine shows ephemeral_deploy and
// keeps netbooting; release is just a power off (no erase, even when asked) and clears it.
// Real HTTP, PostgreSQL and Temporal; the rack is scripted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

/** The real image (root-tgz) and the raw stand-in, as the image builds lay them out. */
function bootRootWithBothImages(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-test-ephemeral-'));
  const write = (dir: string, file: string, manifest: Json) => {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, dir, file), 'x');
    fs.writeFileSync(path.join(root, dir, 'metalflow.json'), JSON.stringify(manifest));
  };
  write('images/rootfs/debian/bookworm/amd64', 'root.tgz', {
    file: 'root.tgz',
    format: 'root-tgz',
    sha256: 'a'.repeat(64),
    size: 1,
  });
  write('images/os/custom/metalflow-standin/amd64', 'disk.img.gz', {
    file: 'disk.img.gz',
    format: 'raw.gz',
    sha256: 'b'.repeat(64),
    size: 1,
  });
  return root;
}

describe('ephemeral deploy: API, boot config, workflow and release (real HTTP, PostgreSQL, Temporal)', () => {
  const bootRoot = bootRootWithBothImages();
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
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

  const ready = async (hostname: string) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { hostname, architecture: 'amd64/generic', mac_addresses: macAddress(), power_type: 'manual' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY);
    return id;
  };
  const machine = async (id: string) =>
    (await api.call('GET', `/MAAS/api/2.0/machines/${id}/`, { key: admin })).body as Json;
  const tokenOf = async (id: string) =>
    (await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=get_token`, { key: admin })).body as Json;
  /** cloud-init's webhook reporter on the OS running from RAM (OAuth PLAINTEXT with the machine's token). */
  const cloudInitFinal = async (id: string) => {
    const t = await tokenOf(id);
    const auth =
      `OAuth oauth_nonce="1", oauth_timestamp="${Math.floor(Date.now() / 1000)}", oauth_version="1.0", ` +
      `oauth_signature_method="PLAINTEXT", oauth_consumer_key="${t.consumer_key as string}", ` +
      `oauth_token="${t.token_key as string}", oauth_signature="%26${t.token_secret as string}"`;
    const r = await fetch(`${api.base}/MAAS/metadata/status/${id}`, {
      method: 'POST',
      headers: { authorization: auth },
      body: JSON.stringify({
        origin: 'cloudinit',
        event_type: 'finish',
        name: 'modules-final',
        description: 'running modules for final',
        result: 'SUCCESS',
      }),
    });
    assert.equal(r.status, 200, await r.text());
  };
  const state = (id: string) =>
    region.services.db.query(
      'SELECT status, owner_id, osystem, distro_series, ephemeral_deploy FROM machines WHERE system_id = $1',
      [id],
    );

  it('refuses an image that cannot run from RAM (the raw stand-in), naming ephemeral_deploy, and writes nothing', async () => {
    const id = await ready('eph-refused');
    const before = await state(id);
    const r = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, {
      key: admin,
      form: { distro_series: 'custom/metalflow-standin', ephemeral_deploy: 'true' },
    });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body, {
      ephemeral_deploy: [
        'custom/metalflow-standin cannot run from RAM (it is a raw disk image); an ephemeral deploy needs a root filesystem image: choose one of: debian/bookworm.',
      ],
    });
    assert.deepEqual(await state(id), before, 'nothing written');
    // The stand-in still deploys to disk, and an unknown series is deploy's own 400.
    const unknown = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, {
      key: admin,
      form: { distro_series: 'trixie', ephemeral_deploy: 'true' },
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.text, /distro_series.*'trixie' is not a boot resource/);
  });

  it('runs the real image from RAM: no boot from disk, DEPLOYED on cloud-init final report; release only powers off', async () => {
    const id = await ready('eph-1');
    const d = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, {
      key: admin,
      form: { ephemeral_deploy: 'true' },
    });
    assert.equal(d.status, 200, d.text);
    const body = d.body as Json;
    assert.deepEqual([body.osystem, body.distro_series, body.ephemeral_deploy], ['debian', 'bookworm', true]);

    // The scripted environment reported OK (image in RAM); cloud-init's final report ends it.
    for (;;) {
      const ev = (await region.services.db.query(
        `SELECT 1 FROM events e JOIN machines m ON m.id = e.machine_id
          WHERE m.system_id = $1 AND e.description LIKE 'Image unpacked in RAM%'`,
        [id],
      )) as unknown[];
      if (ev.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // What the machine netboots while it deploys: the real image, to run from RAM.
    const boot = await region.services.bootConfig('http://rack/MAAS/metadata').forSystemId(id);
    assert.equal(boot.purpose, 'xinstall');
    assert.equal(boot.ephemeral, true);
    assert.equal(boot.image?.path, '/images/rootfs/debian/bookworm/amd64/root.tgz');

    await cloudInitFinal(id);
    const deployed = await waitForStatus(region.services, id, S.DEPLOYED);
    assert.equal(deployed.statusMessage, 'Deployed bookworm (ephemeral).');
    assert.ok(!rack.calls.includes(`boot:local:${id}`), `never booted from disk: ${rack.calls.join(' ')}`);
    const m = await machine(id);
    assert.deepEqual([m.ephemeral_deploy, m.netboot], [true, true]);
    // No disk to boot: a power on through the BMC netboots it (the image from RAM again).
    assert.equal((await region.services.machines.powerConfig(id)).netboot, true);
    // Its reboot netboots the same OS into RAM, with the token its cloud-init reads the metadata
    // server with (as MAAS's preseed does), marked as no deployment to report to.
    const again = await region.services.bootConfig('http://rack/MAAS/metadata').forSystemId(id);
    assert.deepEqual([again.purpose, again.ephemeral, again.deployed], ['xinstall', true, true]);
    assert.equal(again.image?.path, '/images/rootfs/debian/bookworm/amd64/root.tgz');
    assert.ok(again.credentials?.tokenKey, 'credentials for the OS run from RAM again');
    const row = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id });
    assert.match(await region.services.metadata.networkConfig(row), /"version": 1/, 'and its network configuration');

    const since = rack.calls.length;
    const r = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-release`, {
      key: admin,
      form: { erase: 'true' },
    });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(region.services, id, S.READY);
    const released = rack.calls.slice(since).filter((c) => c.endsWith(`:${id}`));
    assert.deepEqual(released, [`off:${id}`], 'a power off, and no erase boot');
    const after = await state(id);
    assert.deepEqual(after, [
      { status: S.READY, owner_id: null, osystem: '', distro_series: '', ephemeral_deploy: false },
    ]);
    const events = (await region.services.db.query(
      `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1`,
      [id],
    )) as Array<{ description: string }>;
    assert.ok(
      events.some((e) => /nothing to erase/.test(e.description)),
      events.map((e) => e.description).join('\n'),
    );
  });

  it('an installed deploy after an ephemeral one boots from disk again (ephemeral_deploy is per deployment)', async () => {
    const id = await ready('eph-then-disk');
    const d = await api.call('POST', `/MAAS/api/2.0/machines/${id}/op-deploy`, {
      key: admin,
      form: { distro_series: 'custom/metalflow-standin' },
    });
    assert.equal(d.status, 200, d.text);
    assert.equal((d.body as Json).ephemeral_deploy, false);
    await waitForStatus(region.services, id, S.DEPLOYED);
    assert.ok(rack.calls.includes(`boot:local:${id}`));
    assert.deepEqual([(await machine(id)).ephemeral_deploy, (await machine(id)).netboot], [false, false]);
    // Powered on through the BMC, it boots what its firmware's order says (the installed OS first),
    // without next boot PXE.
    assert.equal((await region.services.machines.powerConfig(id)).netboot, false);
  });
});
