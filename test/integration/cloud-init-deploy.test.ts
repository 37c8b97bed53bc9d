// A real image's deployment ends when Debian's cloud-init (22.4, datasource MAAS) says it has
// finished, not when the installed OS fetches its user-data (which the stand-in image's check-in
// still does). The requests below are cloud-init's own: the MAAS datasource's GETs under
// <metadata_url>/2012-03-01/ and its webhook reporter's JSON POSTs to status/<system_id> (the
// reporting config the installer writes), OAuth PLAINTEXT as oauthlib signs it, and the installer's
// storage-layout request. Real HTTP, PostgreSQL and Temporal; the rack is scripted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { giveDisk, startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';
import { bootRootWithRootTgz } from '../helpers/boot-images';
import { cloudInitOAuth } from '../helpers/http';

type Json = Record<string, unknown>;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpQm3Vb0xXz1v9N5Rj7jL9r2xk8t3cQy1f5Zk4wYb0E alice@laptop';

describe('cloud-init finishes a real image deployment (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({
      nodeTimeoutMs: 60_000,
      rack: rack.activities(),
      bootRoot: bootRootWithRootTgz(),
    });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    const k = await api.call('POST', '/MAAS/api/2.0/account/prefs/sshkeys/', { key: alice, form: { key: KEY } });
    assert.equal(k.status, 201, k.text);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const tokenOf = async (systemId: string) => {
    const t = (await api.call('GET', `/MAAS/api/2.0/machines/${systemId}/?op=get_token`, { key: admin })).body as Json;
    return `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
  };
  /** What cloud-init's url_helper sends: a GET with its OAuth header and User-Agent. */
  const cloudInitGet = (token: string, url: string) =>
    fetch(`${api.base}/MAAS/metadata/${url}`, {
      headers: { authorization: cloudInitOAuth(token), 'user-agent': 'Cloud-Init/22.4.2' },
    });
  /** cloud-init's webhook reporter: json.dumps(event.as_dict()) as the body, no Content-Type. */
  const report = (token: string, systemId: string, event: Json) =>
    fetch(`${api.base}/MAAS/metadata/status/${systemId}`, {
      method: 'POST',
      headers: { authorization: cloudInitOAuth(token), 'user-agent': 'Cloud-Init/22.4.2' },
      body: Buffer.from(JSON.stringify({ origin: 'cloudinit', timestamp: Date.now() / 1000, ...event })),
    });
  const deploying = async (hostname: string) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { hostname, architecture: 'amd64/generic', mac_addresses: macAddress(), power_type: 'manual' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY);
    await giveDisk(region.services, id);
    const userData = Buffer.from('#!/bin/sh\necho user-data ran >/run/user-data-ran\n').toString('base64');
    const d = await api.call('POST', `/MAAS/api/2.0/machines/${id}/?op=deploy`, {
      key: alice,
      form: { distro_series: 'bookworm', user_data: userData },
    });
    assert.equal(d.status, 200, d.text);
    return { id, token: await tokenOf(id), userData };
  };
  /** The installer has reported OK and the machine boots from disk (what cloud-init runs on). */
  const bootedFromDisk = async (id: string) => {
    for (;;) {
      const [row] = (await region.services.db.query(`SELECT boot_purpose FROM machines WHERE system_id = $1`, [
        id,
      ])) as Array<{ boot_purpose: string }>;
      if (row?.boot_purpose === 'local') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it("serves the installer the machine's storage layout only while it deploys", async () => {
    const { id, token } = await deploying('layout-1');
    const r = await cloudInitGet(token, '2012-03-01/storage-layout');
    // The flat layout on the machine's one disk, its filesystem's UUID for mkfs (the unit tests of
    // storage/installer-description.ts cover the other descriptions).
    const layout = await r.text();
    assert.equal(r.status, 200, layout);
    assert.match(
      layout,
      /^disk \/dev\/sda\npart bios_grub 1M none none\npart linux rest ext4 \/ root - [0-9a-f-]{36}\n/m,
    );
    await bootedFromDisk(id);
    await report(token, id, { event_type: 'finish', name: 'modules-final', description: 'done', result: 'SUCCESS' });
    await waitForStatus(region.services, id, S.DEPLOYED);
    const late = await cloudInitGet(token, '2012-03-01/storage-layout');
    assert.equal(late.status, 409, await late.text());
  });

  it('refuses to deploy storage the installer cannot lay out (MAAS: storage_layout_issues), writing nothing', async () => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { hostname: 'no-root', architecture: 'amd64/generic', mac_addresses: macAddress(), power_type: 'manual' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY);
    // An AUTO link, which a deploy that starts claims an address for.
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, form?: Record<string, string>) => {
      const res = await api.call(method, `/MAAS/api/2.0${url}`, form ? { key: admin, form } : { key: admin });
      assert.equal(res.status, 200, `${method} ${url}: ${res.text}`);
      return res.body as Json;
    };
    const subnet = await call('POST', '/subnets/', { cidr: '10.78.0.0/24', gateway_ip: '10.78.0.1' });
    const [nic] = (await call('GET', `/nodes/${id}/interfaces/`)) as unknown as Json[];
    await call('PUT', `/nodes/${id}/interfaces/${nic!.id as number}/`, { vlan: String((subnet.vlan as Json).id) });
    await call('POST', `/nodes/${id}/interfaces/${nic!.id as number}/?op=link_subnet`, {
      mode: 'AUTO',
      subnet: String(subnet.id),
    });
    const state = async () => ({
      machine: await region.services.db.query('SELECT status, owner_id FROM machines WHERE system_id = $1', [id]),
      links: await region.services.db.query(
        `SELECT l.mode, l.ip FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
         JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
        [id],
      ),
      events: await region.services.db.query(
        'SELECT count(*)::int AS n FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1',
        [id],
      ),
    });
    const deploy = () => api.call('POST', `/MAAS/api/2.0/machines/${id}/?op=deploy`, { key: alice, form: {} });
    const before = await state();
    assert.deepEqual(before.machine, [{ status: S.READY, owner_id: null }]);
    assert.deepEqual(before.links, [{ mode: 'auto', ip: null }]);

    // No disk at all, then a disk laid out blank: MAAS's storage_layout_issues, as a 400.
    const noDisk = await deploy();
    assert.equal(noDisk.status, 400, noDisk.text);
    assert.deepEqual(noDisk.body, { storage: ['Specify a storage device to be able to deploy this node.'] });
    await giveDisk(region.services, id, { layout: false });
    const blank = await deploy();
    assert.equal(blank.status, 400, blank.text);
    assert.deepEqual(blank.body, { storage: ["Mount the root '/' filesystem to be able to deploy this node."] });
    assert.deepEqual(await state(), before, 'nothing written: status, owner, AUTO address, events');

    // Laid out, it deploys: the AUTO link gets its address.
    await giveDisk(region.services, id);
    const d = await deploy();
    assert.equal(d.status, 200, d.text);
    const [link] = (await state()).links as Array<{ ip: string | null }>;
    assert.match(link!.ip ?? '', /^10\.78\.0\.\d+$/);
  });

  it("answers the MAAS datasource's requests and turns DEPLOYED on modules-final's finish", async () => {
    const { id, token, userData } = await deploying('ci-ok');
    await bootedFromDisk(id);
    // wait_for_metadata_service, then read_maas_seed_url's DS_FIELDS.
    const instanceId = await cloudInitGet(token, '2012-03-01/meta-data/instance-id');
    assert.deepEqual([instanceId.status, await instanceId.text()], [200, id]);
    const hostname = await cloudInitGet(token, '2012-03-01/meta-data/local-hostname');
    assert.deepEqual([hostname.status, await hostname.text()], [200, 'ci-ok']);
    const keys = await cloudInitGet(token, '2012-03-01/meta-data/public-keys');
    assert.deepEqual([keys.status, await keys.text()], [200, KEY]);
    const vendor = await cloudInitGet(token, '2012-03-01/meta-data/vendor-data');
    assert.equal(vendor.status, 200);
    assert.match(await vendor.text(), /^#cloud-config\n/);
    const ud = await cloudInitGet(token, '2012-03-01/user-data');
    assert.equal(ud.status, 200);
    assert.equal(Buffer.from(await ud.arrayBuffer()).toString('base64'), userData);

    // The stages' events: progress, not the end (modules-final's start and a sub-event included).
    for (const e of [
      { event_type: 'start', name: 'init-local', description: 'searching for local datasources' },
      {
        event_type: 'finish',
        name: 'init-network',
        description: 'searching for network datasources',
        result: 'SUCCESS',
      },
      { event_type: 'finish', name: 'modules-config', description: 'running modules for config', result: 'SUCCESS' },
      { event_type: 'start', name: 'modules-final', description: 'running modules for final' },
      {
        event_type: 'finish',
        name: 'modules-final/config-scripts-user',
        description: 'config-scripts-user ran successfully',
        result: 'SUCCESS',
      },
    ]) {
      const r = await report(token, id, e);
      assert.equal(r.status, 200, await r.text());
    }
    const [m] = (await region.services.db.query(`SELECT status FROM machines WHERE system_id = $1`, [id])) as Array<{
      status: number;
    }>;
    assert.equal(m!.status, S.DEPLOYING, 'neither the user-data fetch nor an earlier stage ends the deployment');

    const done = await report(token, id, {
      event_type: 'finish',
      name: 'modules-final',
      description: 'running modules for final',
      result: 'SUCCESS',
      files: [],
    });
    assert.equal(done.status, 200, await done.text());
    const deployed = await waitForStatus(region.services, id, S.DEPLOYED);
    assert.equal(deployed.statusMessage, 'Deployed bookworm.');
    const events = (await region.services.db.query(
      `SELECT e.type, e.description FROM events e JOIN machines m ON m.id = e.machine_id
        WHERE m.system_id = $1 AND e.type LIKE 'cloudinit%' ORDER BY e.id`,
      [id],
    )) as Array<{ type: string; description: string }>;
    assert.deepEqual(events.at(-1), {
      type: 'cloudinit finish',
      description: 'modules-final: running modules for final',
    });
  });

  it("a failed modules-final is FAILED_DEPLOYMENT with cloud-init's words, though the user-data was fetched", async () => {
    const { id, token } = await deploying('ci-fail');
    await bootedFromDisk(id);
    // The stand-in's check-in: on a real image it must not end the deployment first.
    assert.equal((await cloudInitGet(token, '2012-03-01/user-data')).status, 200);
    const r = await report(token, id, {
      event_type: 'finish',
      name: 'modules-final',
      description: 'running modules for final',
      result: 'FAIL',
    });
    assert.equal(r.status, 200, await r.text());
    const failed = await waitForStatus(region.services, id, S.FAILED_DEPLOYMENT);
    assert.match(failed.statusMessage, /cloud-init failed: modules-final: running modules for final/);
  });
});
