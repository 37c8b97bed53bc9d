// Deploy the real Debian image (images/debian/build.sh: root.tgz) to the lab's QEMU VM (SeaBIOS)
// and check it as its owner would: the installer in the ephemeral environment lays the image out
// with install-to-disk.sh (the storage the API set up, below), writes cloud-init's MAAS datasource
// config with the machine's token; the VM boots GRUB from its disk, Debian's cloud-init reads
// meta-data and user-data from the metadata server and its final report makes the machine
// DEPLOYED. The layout is custom, set up through the storage API as a user would (blank, then
// partitions formatted and mounted, one of them an LVM volume group's PV): / ext4 on a logical
// volume (GRUB reads /boot from LVM, the image's initramfs activates the root VG), /srv xfs with
// mount options on a partition, /data ext4 on a second logical volume. Then `ssh -i <owner's key>` into it (inside the
// lab namespace): hostname, `lsblk`/`findmnt` against that layout, `cloud-init status`, and the
// user_data's mark. Last, release with a quick erase: the raw disk holds no partition table and no
// signature where the filesystems and the PV were. The lab gets its own boot root with the real
// image (lab/real-image.ts, shared with the UEFI run in real-image-uefi.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEPLOY_PHASES_FILE, recordDeployBench } from './lab/deploy-bench';
import { startLab, waitForMachine, type Json, type Lab } from './lab/lab';
import { bootRootWithRealImage, commissionAndDeploy, ownerKeyDir, sshToDeployed } from './lab/real-image';

const HOSTNAME = 'e2e-real';

/** blkid's probe of the raw disk at a byte offset: the signature's TYPE there, '' for none. */
function signatureAt(disk: string, offset: number): string {
  try {
    return execFileSync('blkid', ['-p', '-O', String(offset), '-s', 'TYPE', '-o', 'value', disk], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return '';
  }
}

/** The GPT's partitions of the raw disk file (byte offsets), [] when it has no table. */
function partitionStarts(disk: string): number[] {
  try {
    const t = JSON.parse(execFileSync('sfdisk', ['-J', disk], { encoding: 'utf8' })) as {
      partitiontable: { sectorsize?: number; partitions: { start: number }[] };
    };
    return t.partitiontable.partitions.map((p) => p.start * (t.partitiontable.sectorsize ?? 512));
  } catch {
    return [];
  }
}

describe('deploy the real Debian image (BIOS) and log in over SSH', { timeout: 40 * 60_000 }, () => {
  let lab: Lab;
  let id: string;
  let work: string;
  let bootRoot: string;

  before(async () => {
    work = ownerKeyDir();
    bootRoot = bootRootWithRealImage();
    // 5 GiB: MAAS's flat layout (the default storage layout commissioning applies) wants a 3 GiB root.
    lab = await startLab({ diskFormat: 'raw', bootRoot, nodeTimeoutSeconds: 1200, diskBytes: 5 * 1024 ** 3 });
    await lab.enableDhcp();
  });
  after(async () => {
    await lab?.stop();
    for (const d of [work, bootRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  /** The custom layout, through MAAS's storage API: blank, then partitions formatted and mounted. */
  async function customLayout(machine: string): Promise<void> {
    const call = async (method: 'GET' | 'POST', uri: string, form?: Record<string, string | string[]>) => {
      const r = await lab.stack.call(method, uri, form);
      assert.ok(r.status === 200 || r.status === 201, `${method} ${uri}: ${r.status} ${r.text}`);
      return r.body as Json;
    };
    await call('POST', `/machines/${machine}/op-set_storage_layout`, { storage_layout: 'blank' });
    const devices = (await call('GET', `/nodes/${machine}/blockdevices/`)) as unknown as Json[];
    const vda = devices.find((d) => d.type === 'physical')!;
    const base = `/nodes/${machine}/blockdevices/${vda.id as number}`;
    const srv = await call('POST', `${base}/partitions/`, { size: '512M' });
    await call('POST', `${base}/partition/${srv.id as number}/op-format`, { fstype: 'xfs' });
    await call('POST', `${base}/partition/${srv.id as number}/op-mount`, {
      mount_point: '/srv',
      mount_options: 'noatime',
    });
    const pv = await call('POST', `${base}/partitions/`, {});
    const vg = await call('POST', `/nodes/${machine}/volume-groups/`, {
      name: 'vgroot',
      partitions: String(pv.id as number),
    });
    const lvs = `/nodes/${machine}/volume-group/${vg.id as number}/op-create_logical_volume`;
    await call('POST', lvs, { name: 'root', size: '3G' });
    await call('POST', lvs, { name: 'data' });
    const lv = async (name: string, fstype: string, form: Record<string, string>) => {
      const dev = ((await call('GET', `/nodes/${machine}/blockdevices/`)) as unknown as Json[]).find(
        (d) => d.name === name,
      )!;
      await call('POST', `/nodes/${machine}/blockdevices/${dev.id as number}/op-format`, { fstype, ...form });
      await call('POST', `/nodes/${machine}/blockdevices/${dev.id as number}/op-mount`, {
        mount_point: name === 'vgroot-root' ? '/' : '/data',
      });
    };
    await lv('vgroot-root', 'ext4', { label: 'root' });
    await lv('vgroot-data', 'ext4', {});
  }

  it('lists the real image as the deployable debian/bookworm', async () => {
    const list = (await lab.stack.call('GET', '/boot-resources/')).body as Json[];
    const bookworm = list.find((r) => r.name === 'debian/bookworm');
    assert.ok(bookworm, JSON.stringify(list));
    const one = (await lab.stack.call('GET', `/boot-resources/${bookworm.id as number}/`)).body as Json;
    assert.ok(JSON.stringify(one).includes('root-tgz'), JSON.stringify(one));
  });

  it('commissions, deploys a custom layout (DEPLOYED by cloud-init), and the owner logs in with the key', async () => {
    ({ id } = await commissionAndDeploy(lab, {
      hostname: HOSTNAME,
      keyDir: work,
      beforeDeploy: customLayout,
      steps: ['lvm'],
    }));
    const ssh = await sshToDeployed(lab, work, id);
    assert.equal(await ssh('hostname'), HOSTNAME);
    // The custom layout on a BIOS machine: the bios_grub partition install-to-disk.sh adds, then
    // the partitions as created, numbered one up; / and /data are logical volumes on the last.
    assert.equal(await ssh('findmnt -n -o SOURCE,FSTYPE /'), '/dev/mapper/vgroot-root ext4');
    assert.equal(await ssh('findmnt -n -o SOURCE,FSTYPE /data'), '/dev/mapper/vgroot-data ext4');
    assert.match(await ssh('findmnt -n -o SOURCE,FSTYPE,OPTIONS /srv'), /^\/dev\/vda2 xfs .*\bnoatime\b/);
    const lsblk = JSON.parse(await ssh('lsblk -J -o NAME,TYPE,FSTYPE,MOUNTPOINT /dev/vda')) as {
      blockdevices: { children: { name: string; fstype: string | null; children?: Json[] }[] }[];
    };
    assert.deepEqual(
      lsblk.blockdevices[0]!.children.map((c) => [c.name, c.fstype, (c.children ?? []).map((l) => l.name)]),
      [
        ['vda1', null, []],
        ['vda2', 'xfs', []],
        ['vda3', 'LVM2_member', ['vgroot-root', 'vgroot-data']],
      ],
    );
    assert.match(await ssh('cloud-init status --wait'), /status: done/);
    assert.equal(await ssh('cat /var/tmp/metalflow-user-data'), `metalflow user-data ran on ${HOSTNAME}`);
  });

  it(
    "bench deploy-real-bios: the deployment's phases, then the installed disk's plain boot",
    { skip: !DEPLOY_PHASES_FILE && 'METALFLOW_DEPLOY_PHASES_FILE is not set' },
    () => recordDeployBench(lab, { id, keyDir: work, firmware: 'bios' }),
  );

  it('releases with erase: no partition table, and no signature where the filesystem and the PV were', async () => {
    const starts = partitionStarts(lab.diskPath);
    assert.equal(starts.length, 3, 'the deployed disk has its three partitions');
    // What the erase must take away is there now (so the check below can fail).
    assert.deepEqual(
      starts.slice(1).map((o) => signatureAt(lab.diskPath, o)),
      ['xfs', 'LVM2_member'],
    );
    const r = await lab.stack.call('POST', `/machines/${id}/op-release`, { erase: 'true', quick_erase: 'true' });
    assert.equal(r.status, 200, r.text);
    await waitForMachine(lab, id, 'Ready', 600_000);
    assert.deepEqual(partitionStarts(lab.diskPath), [], 'no partition table');
    assert.equal(signatureAt(lab.diskPath, 0), '', 'nothing at the start of the disk');
    assert.deepEqual(
      starts.map((o) => signatureAt(lab.diskPath, o)),
      ['', '', ''],
    );
  });
});
