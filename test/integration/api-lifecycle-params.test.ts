// Every parameter the lifecycle operations accept is honoured or refused (400 naming it, nothing
// written): commission's enable_ssh, skip_* (skip_networking / skip_storage keep the interfaces /
// block devices through the hardware report) and testing_scripts=none, deploy's ephemeral_deploy, hwe_kernel and comment,
// release's force and comment; MAAS's options metalflow has no use for (install_kvm, bridge_*,
// commissioning_scripts, …) are refused when they ask for something. Real HTTP, PostgreSQL and Temporal (the rack is scripted).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HARDWARE_FILE } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('MAAS API: lifecycle parameters are honoured or refused', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const rack = new ScriptedRack(50);
  let macs = 0;

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const ready = async (hostname: string) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: `52:54:00:bb:00:${(macs++).toString(16).padStart(2, '0')}`,
        power_type: 'manual',
      },
    });
    assert.equal(r.status, 200, r.text);
    const systemId = (r.body as Json).system_id as string;
    await waitForStatus(region.services, systemId, S.READY);
    return systemId;
  };
  const op = (id: string, name: string, form: Record<string, string>, key = admin) =>
    api.call('POST', `/MAAS/api/2.0/machines/${id}/op-${name}`, { key, form });
  /** What a refused request must leave untouched. */
  const state = async (id: string) =>
    (await region.services.db.query(
      `SELECT m.status, m.owner_id, m.workflow_id, (SELECT count(*) FROM events e WHERE e.machine_id = m.id) AS events
         FROM machines m WHERE m.system_id = $1`,
      [id],
    )) as unknown[];
  const events = async (id: string, type: string) =>
    (
      (await region.services.db.query(
        `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id
          WHERE m.system_id = $1 AND e.type = $2 ORDER BY e.id`,
        [id, type],
      )) as Array<{ description: string }>
    ).map((e) => e.description);

  it('refuses what it cannot honour with a 400 naming the field, and writes nothing', async () => {
    const id = await ready('params-refused');
    const before = await state(id);
    const refused: Array<[string, Record<string, string>, string, RegExp]> = [
      ['commission', { enable_ssh: '1' }, 'enable_ssh', /^enable_ssh is not supported yet: .*powered off/],
      ['commission', { skip_storage: 'banana' }, 'skip_storage', /not a valid boolean/],
      // This region has no images: nothing could run from RAM (ephemeral-deploy.test.ts deploys one).
      ['deploy', { ephemeral_deploy: 'true' }, 'ephemeral_deploy', /^An ephemeral deploy needs a root filesystem/],
      ['deploy', { ephemeral_deploy: 'perhaps' }, 'ephemeral_deploy', /not a valid boolean/],
      ['deploy', { hwe_kernel: 'ga-22.04' }, 'hwe_kernel', /^hwe_kernel is not supported yet/],
      ['release', { force: 'maybe' }, 'force', /not a valid boolean/],
      ['commission', { commissioning_scripts: 'smartctl' }, 'commissioning_scripts', /is not supported yet/],
      // Tests run after commissioning (test/integration/testing.test.ts); an unknown one is refused.
      ['commission', { testing_scripts: 'none,no-such-test' }, 'testing_scripts', /no-such-test/],
      ['commission', { parameters: '{}' }, 'parameters', /^Unknown parameter: no chosen script declares it/],
      ['deploy', { install_kvm: 'true' }, 'install_kvm', /^install_kvm is not supported yet: .*KVM/],
      ['deploy', { register_vmhost: '1' }, 'register_vmhost', /^register_vmhost is not supported yet/],
      ['deploy', { bridge_all: 'true' }, 'bridge_all', /^bridge_all is not supported yet/],
      ['deploy', { bridge_type: 'ovs' }, 'bridge_type', /^bridge_type is not supported yet/],
      ['deploy', { enable_hw_sync: 'on' }, 'enable_hw_sync', /^enable_hw_sync is not supported yet/],
    ];
    for (const [name, form, field, message] of refused) {
      const r = await op(id, name, form);
      assert.equal(r.status, 400, `${name} ${JSON.stringify(form)}: ${r.text}`);
      const body = r.body as Record<string, string[]>;
      assert.deepEqual(Object.keys(body), [field], r.text);
      assert.match(body[field]![0]!, message);
    }
    assert.deepEqual(await state(id), before, 'a refused request changes nothing');
  });

  it('accepts skip_bmc_config (no BMC is configured here), enable_ssh=0 and testing_scripts=none', async () => {
    const id = await ready('params-skip');
    const r = await op(id, 'commission', { enable_ssh: '0', skip_bmc_config: '1', testing_scripts: 'none' });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.body as Json).status_name, 'Commissioning');
    await waitForStatus(region.services, id, S.READY);
  });

  /** Commission `id` with `form`; its hardware report has one new NIC and one disk of `diskBytes`. */
  const commissionWithReport = async (id: string, form: Record<string, string>, nicMac: string, diskBytes: number) => {
    rack.behaviour.set(id, 'silent');
    const r = await op(id, 'commission', form);
    assert.equal(r.status, 200, r.text);
    const report = {
      architecture: 'amd64',
      cpu: { count: 8, model: 'Test CPU', speed_mhz: 2000 },
      memory_mib: 8192,
      block_devices: [{ name: 'sdz', size_bytes: diskBytes, serial: 'S1', model: 'Disk' }],
      interfaces: [{ name: 'enp9s0', type: 'physical', mac: nicMac, link_speed_mbps: 1000 }],
      dmi: { vendor: 'Test' },
    };
    const m = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id });
    await region.services.metadata.signal(m, {
      status: 'OK',
      error: '',
      files: new Map([[HARDWARE_FILE, Buffer.from(JSON.stringify(report))]]),
    });
    rack.behaviour.delete(id);
    return waitForStatus(region.services, id, S.READY);
  };
  const macsOf = async (id: string) =>
    (
      (await region.services.db.query(
        `SELECT i.mac_address FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1 ORDER BY 1`,
        [id],
      )) as Array<{ mac_address: string }>
    ).map((r) => r.mac_address);

  it('skip_networking and skip_storage keep the interfaces and block devices through the hardware report, once', async () => {
    const id = await ready('params-skips');
    const nics = await macsOf(id);
    const disks = (await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id }))
      .blockDevices;

    const skipped = await commissionWithReport(
      id,
      { skip_networking: 'true', skip_storage: 'true' },
      '52:54:00:cc:00:01',
      2_000_000_000_000,
    );
    assert.deepEqual(await macsOf(id), nics, 'skip_networking: the interfaces are as they were');
    assert.deepEqual(skipped.blockDevices, disks, 'skip_storage: the block devices are as they were');
    assert.equal(skipped.cpuCount, 8, 'the rest of the report is applied');
    assert.deepEqual([skipped.skipNetworking, skipped.skipStorage], [false, false], 'cleared by the report');

    // Without them (the default), the next commissioning's report applies both.
    const applied = await commissionWithReport(id, {}, '52:54:00:cc:00:02', 3_000_000_000_000);
    assert.ok((await macsOf(id)).includes('52:54:00:cc:00:02'));
    assert.deepEqual(
      applied.blockDevices.map((d) => d.size),
      [3_000_000_000_000],
    );
  });

  it('skip_storage alone keeps the block devices and applies the interfaces', async () => {
    const id = await ready('params-skip-storage');
    const before = (await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: id }))
      .blockDevices;
    const after = await commissionWithReport(id, { skip_storage: '1' }, '52:54:00:cc:00:03', 4_000_000_000_000);
    assert.deepEqual(after.blockDevices, before);
    assert.ok((await macsOf(id)).includes('52:54:00:cc:00:03'));
  });

  it("records deploy's and release's comment in MAAS's request events; a forced release is a release", async () => {
    const id = await ready('params-comment');
    // MAAS's options that ask for nothing (false, empty) are accepted: nothing to honour.
    const deploy = await op(
      id,
      'deploy',
      { distro_series: 'jammy', comment: 'going live', install_kvm: 'false', bridge_type: '' },
      alice,
    );
    assert.equal(deploy.status, 200, deploy.text);
    await waitForStatus(region.services, id, S.DEPLOYED);
    assert.deepEqual(await events(id, 'User starting deployment'), ['(alice) - going live']);

    const release = await op(id, 'release', { comment: 'done with it', force: 'true' }, alice);
    assert.equal(release.status, 200, release.text);
    await waitForStatus(region.services, id, S.READY);
    assert.deepEqual(await events(id, 'User releasing node'), ['(alice) - done with it']);

    // No comment: who asked, as MAAS words it.
    await waitForStatus(region.services, id, S.READY);
    assert.equal((await op(id, 'deploy', { distro_series: 'jammy' })).status, 200);
    await waitForStatus(region.services, id, S.DEPLOYED);
    assert.deepEqual(await events(id, 'User starting deployment'), ['(alice) - going live', '(admin)']);
  });
});
