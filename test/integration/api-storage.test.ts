// MAAS's storage API (issue 13 item 2): block devices, partitions, volume groups, RAIDs and the
// machine's storage layouts, over real HTTP, PostgreSQL and Temporal (scripted rack). A machine
// commissioned with three disks on UEFI gets the default (flat) layout; each handler and layout is
// exercised, and each refused request is checked to have written nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HARDWARE_FILE, type HardwareReport } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineEntity } from '../../src/region/db/entities';
import { storageOf, storageRowsInOneStatement, storageRowsSetWise } from '../../src/region/services/storage/repository';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

// Response bodies are read field by field, as a client would; typing every MAAS shape here would
// restate the presenters.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const GB = 1_000_000_000;
const MiB = 1024 * 1024;

const report = (disks: HardwareReport['block_devices']): HardwareReport => ({
  architecture: 'amd64/generic',
  cpu: { count: 2, model: 'CPU', speed_mhz: 2400 },
  memory_mib: 4096,
  block_devices: disks,
  interfaces: [{ name: 'eth0', mac: '52:54:00:5d:00:01', link_speed_mbps: 1000 }],
  dmi: {},
  firmware: 'uefi',
});
const DISKS: HardwareReport['block_devices'] = [
  { name: 'sda', size_bytes: 100 * GB, serial: 'SER-A', model: 'DISK' },
  { name: 'sdb', size_bytes: 50 * GB, serial: 'SER-B', model: 'DISK' },
  { name: 'sdc', size_bytes: 60 * GB, serial: '', model: 'DISK', id_path: '/dev/disk/by-id/wwn-0xc' },
];

describe('MAAS API: storage model', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let sid: string;
  const rack = new ScriptedRack(50);
  const base = () => `/MAAS/api/2.0/nodes/${sid}`;

  const commission = async (disks: HardwareReport['block_devices'], form: Record<string, string> = {}) => {
    rack.behaviour.set(sid, 'silent');
    const r = await api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-commission`, { key: admin, form });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(region.services, sid, S.COMMISSIONING);
    const m = await region.services.db.getRepository(MachineEntity).findOneByOrFail({ systemId: sid });
    await region.services.metadata.signal(m, {
      status: 'OK',
      error: '',
      files: new Map([[HARDWARE_FILE, Buffer.from(JSON.stringify(report(disks)))]]),
    });
    await waitForStatus(region.services, sid, S.READY);
  };
  const get = async (path: string, key = admin) => {
    const r = await api.call('GET', `${base()}${path}`, { key });
    assert.equal(r.status, 200, r.text);
    return r.body as Json & Json[];
  };
  const post = (path: string, form: Record<string, string | string[]> = {}, key = admin) =>
    api.call('POST', `${base()}${path}`, { key, form });
  const machine = async () => {
    const r = await api.call('GET', `/MAAS/api/2.0/machines/${sid}/`, { key: admin });
    assert.equal(r.status, 200, r.text);
    return r.body as Json;
  };
  const device = async (name: string) => ((await get('/blockdevices/')) as Json[]).find((d) => d.name === name)!;
  /** Everything the storage tables hold for the machine: a refused request must leave it as it was. */
  const snapshot = async () =>
    JSON.stringify([await get('/blockdevices/'), await get('/volume-groups/'), await get('/raids/')]);
  const layout = (form: Record<string, string>) =>
    api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-set_storage_layout`, { key: admin, form });

  /**
   * A machine's storage loads the same in one statement (a few machines) as in the six set-wise
   * queries (a listing's many): every table filled here (disks, a partition table and its
   * partitions, filesystems, a RAID's group and its virtual device), this machine and another.
   */
  const sameStorageEitherWay = async () => {
    const ids = (await region.services.db.query(`SELECT id FROM machines ORDER BY id`)) as Array<{ id: number }>;
    const all = ids.map((r) => r.id);
    assert.ok(all.length >= 2, 'another machine to load alongside');
    const sorted = (m: Map<number, unknown>) => [...m].sort(([a], [b]) => a - b);
    const one = storageOf(await storageRowsInOneStatement(region.services.db.manager, all));
    const setWise = storageOf(await storageRowsSetWise(region.services.db.manager, all));
    assert.deepEqual(sorted(one), sorted(setWise));
    const mine = [...one.values()].find((m) => m.systemId === sid)!;
    assert.deepEqual(
      [
        mine.devices.length >= 4,
        mine.tables.length > 0,
        mine.partitions.length > 0,
        mine.filesystems.length >= 2,
        mine.groups.length,
      ],
      [true, true, true, true, 1],
      'every storage table has rows for this machine',
    );
  };

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 60_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname: 'disks',
        architecture: 'amd64/generic',
        mac_addresses: '52:54:00:5d:00:01',
        power_type: 'manual',
        commission: 'false',
      },
    });
    assert.equal(r.status, 200, r.text);
    sid = (r.body as Json).system_id;
    await commission(DISKS);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('commissioning fills the physical devices and lays out the default (flat) layout with an ESP on UEFI', async () => {
    const devices = (await get('/blockdevices/')) as Json[];
    assert.deepEqual(
      devices.map((d) => [d.name, d.type, d.size, d.serial, d.id_path]),
      [
        ['sda', 'physical', 100 * GB, 'SER-A', null],
        ['sdb', 'physical', 50 * GB, 'SER-B', null],
        ['sdc', 'physical', 60 * GB, '', '/dev/disk/by-id/wwn-0xc'],
      ],
    );
    const sda = devices[0]!;
    assert.equal(sda.partition_table_type, 'GPT');
    assert.equal(sda.used_for, 'GPT partitioned with 2 partitions');
    const [esp, root] = sda.partitions as Json[];
    assert.deepEqual(
      [esp!.size, esp!.bootable, esp!.filesystem.fstype, esp!.filesystem.mount_point],
      [512 * MiB, true, 'fat32', '/boot/efi'],
    );
    assert.deepEqual(
      [root!.filesystem.fstype, root!.filesystem.label, root!.filesystem.mount_point],
      ['ext4', 'root', '/'],
    );
    assert.equal(root!.resource_uri, `/MAAS/api/2.0/nodes/${sid}/blockdevices/${sda.id}/partition/${root!.id}`);
    const m = await machine();
    assert.equal(m.bios_boot_method, 'uefi');
    assert.equal(m.boot_disk.id, sda.id);
    assert.equal(m.physicalblockdevice_set.length, 3);
    assert.deepEqual(m.virtualblockdevice_set, []);
    assert.equal(m.storage, 210_000);
  });

  it('re-commissioning keeps the ids of the same disks (by serial, else id_path); skip_storage keeps everything', async () => {
    const before = (await get('/blockdevices/')) as Json[];
    await commission([DISKS[2]!, { ...DISKS[0]!, name: 'sdz' }, DISKS[1]!]);
    const afterwards = (await get('/blockdevices/')) as Json[];
    const idOf = (list: Json[], serialOrPath: string) =>
      list.find((d) => d.serial === serialOrPath || d.id_path === serialOrPath)!.id;
    for (const key of ['SER-A', 'SER-B', '/dev/disk/by-id/wwn-0xc'])
      assert.equal(idOf(afterwards, key), idOf(before, key));
    assert.equal(afterwards.find((d) => d.serial === 'SER-A')!.name, 'sdz');
    await commission(DISKS);
    const kept = await snapshot();
    await commission([DISKS[0]!], { skip_storage: 'true' });
    assert.equal(await snapshot(), kept);
  });

  it('set_storage_layout lvm: ESP, a PV partition, the volume group and its root LV', async () => {
    const r = await layout({ storage_layout: 'lvm', vg_name: 'vgmain', lv_name: 'root', lv_size: '10G' });
    assert.equal(r.status, 200, r.text);
    const m = r.body as Json;
    assert.equal(m.volume_groups.length, 1);
    const vg = m.volume_groups[0];
    assert.equal(vg.name, 'vgmain');
    assert.equal(vg.devices.length, 1);
    assert.equal(vg.devices[0].used_for, 'LVM volume for vgmain');
    assert.equal(vg.logical_volumes.length, 1);
    const lv = vg.logical_volumes[0];
    assert.equal(lv.name, 'vgmain-root');
    assert.equal(lv.size, Math.floor((10 * GB) / (4 * MiB)) * 4 * MiB);
    assert.equal(lv.filesystem.mount_point, '/');
    assert.deepEqual(
      m.virtualblockdevice_set.map((d: Json) => d.name),
      ['vgmain-root'],
    );
    assert.equal(vg.available_size, vg.size - lv.size);
  });

  it('volume groups: read, create_logical_volume, delete_logical_volume', async () => {
    const [vg] = (await get('/volume-groups/')) as Json[];
    const created = await post(`/volume-group/${vg!.id}/op-create_logical_volume`, { name: 'data', size: '2G' });
    assert.equal(created.status, 200, created.text);
    assert.equal((created.body as Json).name, 'vgmain-data');
    const read = await get(`/volume-group/${vg!.id}/`);
    assert.equal(read.logical_volumes.length, 2);
    const tooBig = await post(`/volume-group/${vg!.id}/op-create_logical_volume`, { name: 'huge', size: '10T' });
    assert.equal(tooBig.status, 400, tooBig.text);
    assert.match(tooBig.text, /Size is too large/);
    const del = await post(`/volume-group/${vg!.id}/op-delete_logical_volume`, {
      id: String((created.body as Json).id),
    });
    assert.equal(del.status, 204, del.text);
    assert.equal((await get(`/volume-group/${vg!.id}/`)).logical_volumes.length, 1);
  });

  it('layout validation failures are 400s naming the problem, and write nothing', async () => {
    const before = await snapshot();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { storage_layout: 'flat', boot_size: String(512 * MiB - 1) },
        /boot_size.*Size is too small. Minimum size is 536870912/,
      ],
      [{ storage_layout: 'flat', root_size: '1T' }, /root_size.*Size is too large/],
      [{ storage_layout: 'lvm', lv_size: '1G' }, /lv_size.*Size is too small/],
      [{ storage_layout: 'flat', root_device: '999999' }, /root_device/],
      [{ storage_layout: 'bcache' }, /bcache is not supported/],
      [{ storage_layout: 'vmfs6' }, /storage_layout/],
      [{ storage_layout: 'lvm', vg_name: 'bad name' }, /vg_name/],
      [{ storage_layout: 'flat', cache_device: '3' }, /cache_device is not supported/],
      [{ storage_layout: 'flat', boot_size: 'lots' }, /not a valid size/],
    ];
    for (const [form, message] of cases) {
      const r = await layout(form);
      assert.equal(r.status, 400, `${JSON.stringify(form)}: ${r.text}`);
      assert.match(r.text, message, JSON.stringify(form));
    }
    assert.equal(await snapshot(), before);
  });

  it('set_storage_layout flat with boot_size, root_size and root_device; blank clears everything', async () => {
    const sdb = await device('sdb');
    const flat = await layout({
      storage_layout: 'flat',
      boot_size: '1G',
      root_size: '20G',
      root_device: String(sdb.id),
    });
    assert.equal(flat.status, 200, flat.text);
    const sda = await device('sda');
    assert.deepEqual(
      sda.partitions.map((p: Json) => p.filesystem.mount_point),
      ['/boot/efi', '/boot'],
    );
    const root = (await device('sdb')).partitions;
    assert.equal(root.length, 1);
    assert.equal(root[0].filesystem.mount_point, '/');
    assert.equal(root[0].size, Math.floor((20 * GB) / (4 * MiB)) * 4 * MiB);
    assert.deepEqual((await machine()).volume_groups, []);

    const blank = await layout({ storage_layout: 'blank' });
    assert.equal(blank.status, 200, blank.text);
    for (const d of (await get('/blockdevices/')) as Json[]) {
      assert.deepEqual([d.partitions, d.filesystem, d.used_for, d.partition_table_type], [[], null, 'Unused', null]);
    }
  });

  it('a custom partition set: create, format, mount, unmount, unformat, delete; one root filesystem', async () => {
    const sda = await device('sda');
    const p = `/blockdevices/${sda.id}/partitions/`;
    const esp = await post(p, { size: String(512 * MiB), bootable: 'true' });
    assert.equal(esp.status, 200, esp.text);
    const espId = (esp.body as Json).id;
    assert.equal(
      (await post(`/blockdevices/${sda.id}/partition/${espId}/op-format`, { fstype: 'fat32', label: 'efi' })).status,
      200,
    );
    assert.equal(
      (await post(`/blockdevices/${sda.id}/partition/${espId}/op-mount`, { mount_point: '/boot/efi' })).status,
      200,
    );
    const swap = await post(p, { size: '2G' });
    const swapId = (swap.body as Json).id;
    const root = await post(p, {});
    assert.equal(root.status, 200, root.text);
    const rootJson = root.body as Json;
    // The rest of the disk: less the GPT's 5 MiB and the other partitions, 4 MiB aligned (MAAS's rules).
    const swapSize = Math.floor((2 * GB) / (4 * MiB)) * 4 * MiB;
    assert.equal(rootJson.size, Math.floor((sda.size - 5 * MiB - 512 * MiB - swapSize) / (4 * MiB)) * 4 * MiB);
    const rootUri = `/blockdevices/${sda.id}/partition/${rootJson.id}`;
    const rootUuid = '0e7c1a54-3f0b-4f44-9a52-6f4d2f3c9b10';
    const formatted = await post(`${rootUri}/op-format`, {
      fstype: 'ext4',
      label: 'root',
      uuid: rootUuid.toUpperCase(),
    });
    assert.equal(formatted.status, 200, formatted.text);
    assert.equal((formatted.body as Json).filesystem.uuid, rootUuid);
    const mounted = await post(`${rootUri}/op-mount`, { mount_point: '/', mount_options: 'noatime' });
    assert.equal(mounted.status, 200, mounted.text);
    assert.deepEqual((mounted.body as Json).filesystem.mount_options, 'noatime');
    assert.equal((mounted.body as Json).used_for, 'ext4 formatted filesystem mounted at /');

    // Refusals that write nothing.
    const before = await snapshot();
    assert.equal((await post(`/blockdevices/${sda.id}/partition/${swapId}/op-format`, { fstype: 'ntfs' })).status, 400);
    await post(`/blockdevices/${sda.id}/partition/${swapId}/op-format`, { fstype: 'ext4' });
    const second = await post(`/blockdevices/${sda.id}/partition/${swapId}/op-mount`, { mount_point: '/' });
    assert.equal(second.status, 400, second.text);
    assert.match(second.text, /Another filesystem is already mounted at \//);
    const full = await post(p, { size: '1G' });
    assert.equal(full.status, 400, full.text);
    assert.match(full.text, /Size is too large/);
    const unformatMounted = await post(`${rootUri}/op-unformat`);
    assert.equal(unformatMounted.status, 400);
    assert.match(unformatMounted.text, /Unmount the filesystem before unformatting the partition/);
    const formatDisk = await post(`/blockdevices/${sda.id}/op-format`, { fstype: 'ext4' });
    assert.equal(formatDisk.status, 400);
    assert.match(formatDisk.text, /has partitions/);
    await post(`/blockdevices/${sda.id}/partition/${swapId}/op-unformat`);
    // The installer hands label and uuid to mkfs: what mkfs would refuse after the disks were wiped is refused here.
    const swapUri = `/blockdevices/${sda.id}/partition/${swapId}`;
    const longLabel = await post(`${swapUri}/op-format`, { fstype: 'xfs', label: 'thirteenchar' + 's' });
    assert.equal(longLabel.status, 400, longLabel.text);
    assert.match(longLabel.text, /"label".*'thirteenchars' is not a valid xfs label: at most 12 characters/);
    const fatLabel = await post(`${swapUri}/op-format`, { fstype: 'fat32', label: 'TWELVE-CHARS' });
    assert.match(fatLabel.text, /not a valid fat32 label: at most 11 characters/);
    const blank = await post(`${swapUri}/op-format`, { fstype: 'ext4', label: 'my data' });
    assert.match(blank.text, /'my data' is not a valid ext4 label/);
    const fatUuid = await post(`${swapUri}/op-format`, { fstype: 'fat32', uuid: rootUuid });
    assert.equal(fatUuid.status, 400, fatUuid.text);
    assert.match(fatUuid.text, /"uuid".*A fat32 filesystem cannot be given a UUID/);
    assert.equal(await snapshot(), before);

    assert.equal((await post(`${rootUri}/op-unmount`)).status, 200);
    const again = await post(`${rootUri}/op-unmount`);
    assert.equal(again.status, 400);
    assert.match(again.text, /already unmounted/);
    assert.equal((await post(`${rootUri}/op-unformat`)).status, 200);
    const del = await api.call('DELETE', `${base()}/blockdevices/${sda.id}/partition/${swapId}`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.equal((await get(`/blockdevices/${sda.id}/partitions/`)).length, 2);
    const gone = await api.call('GET', `${base()}/blockdevices/${sda.id}/partition/${swapId}`, { key: admin });
    assert.equal(gone.status, 404);
  });

  it('a RAID-1 over two disks, formatted and mounted; level rules; delete', async () => {
    const sdb = await device('sdb');
    const sdc = await device('sdc');
    const tooFew = await post('/raids/', { level: 'raid-5', block_devices: [String(sdb.id), String(sdc.id)] });
    assert.equal(tooFew.status, 400);
    assert.match(tooFew.text, /at least 3 raid devices/);
    const badLevel = await post('/raids/', { level: 'raid-7', block_devices: [String(sdb.id), String(sdc.id)] });
    assert.equal(badLevel.status, 400);
    const r = await post('/raids/', { name: 'md0', level: 'raid-1', block_devices: [String(sdb.id), String(sdc.id)] });
    assert.equal(r.status, 200, r.text);
    const raid = r.body as Json;
    assert.deepEqual(
      [raid.name, raid.level, raid.size, raid.devices.length, raid.spare_devices.length],
      ['md0', 'raid-1', 50 * GB, 2, 0],
    );
    assert.equal((await device('sdb')).used_for, 'Active raid-1 device for md0');
    const md = raid.virtual_device as Json;
    assert.equal((await post(`/blockdevices/${md.id}/op-format`, { fstype: 'ext4' })).status, 200);
    const mounted = await post(`/blockdevices/${md.id}/op-mount`, { mount_point: '/srv' });
    assert.equal(mounted.status, 200, mounted.text);
    const reuse = await post('/volume-groups/', { name: 'vgx', block_devices: [String(sdb.id)] });
    assert.equal(reuse.status, 400);
    assert.match(reuse.text, /already in use/);
    assert.equal((await get('/raids/')).length, 1);
    assert.equal((await machine()).raids[0].name, 'md0');
    await sameStorageEitherWay();
    const del = await api.call('DELETE', `${base()}/raid/${raid.id}/`, { key: admin });
    assert.equal(del.status, 204, del.text);
    assert.equal((await device('sdb')).used_for, 'Unused');
  });

  it('block device tags, boot disk, and deleting only virtual devices', async () => {
    const sdb = await device('sdb');
    const tagged = await post(`/blockdevices/${sdb.id}/op-add_tag`, { tag: 'ssd' });
    assert.equal(tagged.status, 200, tagged.text);
    assert.deepEqual((tagged.body as Json).tags, ['ssd']);
    assert.deepEqual(((await post(`/blockdevices/${sdb.id}/op-remove_tag`, { tag: 'ssd' })).body as Json).tags, []);
    assert.equal((await post(`/blockdevices/${sdb.id}/op-set_boot_disk`)).status, 200);
    assert.equal((await machine()).boot_disk.id, sdb.id);
    const del = await api.call('DELETE', `${base()}/blockdevices/${sdb.id}/`, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /Only virtual block devices/);
    assert.equal((await api.call('GET', `${base()}/blockdevices/99999/`, { key: admin })).status, 404);
    const sda = await device('sda');
    assert.equal((await post(`/blockdevices/${sda.id}/op-set_boot_disk`)).status, 200);
  });

  it('restore_storage_configuration lays out the default_storage_layout setting', async () => {
    const set = await api.call('POST', '/MAAS/api/2.0/maas/op-set_config', {
      key: admin,
      form: { name: 'default_storage_layout', value: 'lvm' },
    });
    assert.equal(set.status, 200, set.text);
    const r = await api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-restore_storage_configuration`, { key: admin });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.body as Json).volume_groups[0].name, 'vgroot');
    assert.equal((r.body as Json).volume_groups[0].logical_volumes[0].name, 'vgroot-lvroot');
  });

  it("MAAS's permission and state rules: users may not edit a Ready machine; nothing but Ready/Allocated", async () => {
    const sdb = await device('sdb');
    const listed = await api.call('GET', `${base()}/blockdevices/`, { key: alice });
    assert.equal(listed.status, 200, listed.text);
    const format = await post(`/blockdevices/${sdb.id}/op-format`, { fstype: 'ext4' }, alice);
    assert.equal(format.status, 403, format.text);
    assert.match(format.text, /Cannot format block device because you don't have the permissions on a Ready machine/);
    const aliceLayout = await api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-set_storage_layout`, {
      key: alice,
      form: { storage_layout: 'flat' },
    });
    assert.equal(aliceLayout.status, 403, aliceLayout.text);

    const broken = await api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-mark_broken`, { key: admin });
    assert.equal(broken.status, 200, broken.text);
    const before = await snapshot();
    const notReady = await post(`/blockdevices/${sdb.id}/op-format`, { fstype: 'ext4' });
    assert.equal(notReady.status, 409, notReady.text);
    assert.equal(notReady.text, 'Cannot format block device because the machine is not Ready or Allocated.');
    const layoutNotReady = await layout({ storage_layout: 'flat' });
    assert.equal(layoutNotReady.status, 409, layoutNotReady.text);
    assert.equal(layoutNotReady.text, 'Cannot change the storage layout on a machine that is not Ready.');
    assert.equal(await snapshot(), before);
    const fixed = await api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-mark_fixed`, { key: admin });
    assert.equal(fixed.status, 200, fixed.text);
  });

  it('allocate matches storage constraints on the block devices (their ids and tags); the owner edits an Allocated machine', async () => {
    const sda = await device('sda');
    const sdb = await device('sdb');
    assert.equal((await post(`/blockdevices/${sdb.id}/op-add_tag`, { tag: 'fast' })).status, 200);
    const none = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', {
      key: alice,
      form: { storage: 'root:10,data:40(nvme)' },
    });
    assert.equal(none.status, 409, none.text);
    const r = await api.call('POST', '/MAAS/api/2.0/machines/op-allocate', {
      key: alice,
      form: { storage: 'root:10,data:40(fast)' },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.body as Json).constraints_by_type.storage, { root: [sda.id], data: [sdb.id] });
    // Allocated to alice: she formats and mounts; another user cannot.
    const formatted = await post(`/blockdevices/${sdb.id}/op-format`, { fstype: 'xfs' }, alice);
    assert.equal(formatted.status, 200, formatted.text);
    const bob = await api.keyFor('bob');
    const denied = await post(`/blockdevices/${sdb.id}/op-mount`, { mount_point: '/data' }, bob);
    assert.ok([403, 404].includes(denied.status), denied.text);
    const layoutByOwner = await api.call('POST', `/MAAS/api/2.0/machines/${sid}/op-set_storage_layout`, {
      key: admin,
      form: { storage_layout: 'flat' },
    });
    assert.equal(layoutByOwner.status, 409, layoutByOwner.text);
  });
});
