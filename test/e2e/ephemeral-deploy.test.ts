// Ephemeral deploy (MAAS 3.5's ephemeral_deploy=true) of the real Debian image on the lab's BIOS
// VM, checked as its owner would: the ephemeral environment unpacks root.tgz into a tmpfs, writes
// cloud-init's MAAS datasource config and switch_roots into the image's systemd; cloud-init's
// final report makes the machine DEPLOYED. Then `ssh -i <owner's key>`: the hostname, `/` on
// tmpfs, the disk without a partition (never written: the raw disk file is still all zeros where
// a partition table would be), cloud-init done, the user_data's mark. The OS reboots
// (`systemctl reboot`): the VM netboots the same OS into RAM again (mf.ephemeral=again) and the
// owner logs in once more, still DEPLOYED. Release is just a power off: READY, the VM off, no erase.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLab, VM, waitForMachine, type Json, type Lab } from './lab/lab';
import { bootRootWithRealImage, ownerKeyDir, rebootDeployed, sshToDeployed, USER_DATA } from './lab/real-image';

const HOSTNAME = 'e2e-ephemeral';

describe(
  'ephemeral deploy of the real Debian image (BIOS): runs from RAM, disks untouched',
  { timeout: 40 * 60_000 },
  () => {
    let lab: Lab;
    let id: string;
    let work: string;
    let bootRoot: string;

    before(async () => {
      work = ownerKeyDir();
      bootRoot = bootRootWithRealImage();
      // The unpacked root (~800 MiB) lives in RAM next to the running system.
      lab = await startLab({ diskFormat: 'raw', bootRoot, nodeTimeoutSeconds: 1200, memoryMib: 2048, reboots: true });
      await lab.enableDhcp();
    });
    after(async () => {
      await lab?.stop();
      for (const d of [work, bootRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
    });

    /** The raw disk's first MiB is all zeros: no partition table, nothing written. */
    function diskStartIsZero(): boolean {
      const head = Buffer.alloc(1024 * 1024);
      const fd = fs.openSync(lab.diskPath, 'r');
      try {
        fs.readSync(fd, head, 0, head.length, 0);
      } finally {
        fs.closeSync(fd);
      }
      return head.every((b) => b === 0);
    }

    it('deploys ephemerally (DEPLOYED by cloud-init), the owner logs in, reboots into RAM again, and release powers it off', async (t) => {
      const r = await lab.stack.call('POST', '/machines/', {
        architecture: 'amd64/generic',
        mac_addresses: VM.mac,
        hostname: HOSTNAME,
        power_type: 'ipmi',
        ...Object.fromEntries(Object.entries(lab.ipmiParams()).map(([k, v]) => [`power_parameters_${k}`, v])),
      });
      assert.equal(r.status, 200, r.text);
      id = (r.body as Json).system_id as string;
      await waitForMachine(lab, id, 'Ready', 300_000);

      const key = await lab.stack.call('POST', '/account/prefs/sshkeys/', {
        key: fs.readFileSync(path.join(work, 'key.pub'), 'utf8').trim(),
      });
      assert.equal(key.status, 201, key.text);
      const d = await lab.stack.call('POST', `/machines/${id}/op-deploy`, {
        ephemeral_deploy: 'true',
        user_data: Buffer.from(USER_DATA).toString('base64'),
      });
      assert.equal(d.status, 200, d.text);
      assert.equal((d.body as Json).ephemeral_deploy, true);
      const deployed = await waitForMachine(lab, id, 'Deployed', 30 * 60_000);
      assert.deepEqual([deployed.osystem, deployed.distro_series], ['debian', 'bookworm']);
      assert.equal(deployed.ephemeral_deploy, true);
      assert.equal(deployed.netboot, true, 'an ephemeral deployment always netboots');

      const ev = ((await lab.stack.call('GET', `/events/?op=query&id=${id}&limit=500&level=DEBUG`)).body as Json)
        .events as Json[];
      const lines = ev.map((e) => `${String(e.type)}: ${String(e.description)}`);
      assert.ok(
        lines.some((l) => /Unpacking .*root\.tgz into RAM/.test(l)),
        lines.join('\n'),
      );
      assert.ok(!lines.some((l) => /Installing: /.test(l)), `no install step ran:\n${lines.join('\n')}`);
      assert.ok(
        lines.some((l) => /^cloudinit finish: modules-final/.test(l)),
        lines.join('\n'),
      );

      const ssh = await sshToDeployed(lab, work, id);
      assert.equal(await ssh('hostname'), HOSTNAME);
      assert.equal(await ssh('findmnt -n -o FSTYPE /'), 'tmpfs');
      assert.deepEqual(
        (await ssh('lsblk -rn -o TYPE')).split('\n').filter((t) => t === 'part'),
        [],
        `no partitions:\n${await ssh('lsblk')}`,
      );
      assert.match(await ssh('cloud-init status --wait'), /status: done/);
      assert.equal(await ssh('cat /var/tmp/metalflow-user-data'), `metalflow user-data ran on ${HOSTNAME}`);
      assert.ok(diskStartIsZero(), 'the disk was never written');

      // The reboot runs the OS from RAM again: a new boot, the owner's key and hostname from the
      // metadata server, / on tmpfs, the disk still untouched, the machine still Deployed.
      const again = (await rebootDeployed(lab, work, id, 900_000, (line) => t.diagnostic(line))).ssh;
      assert.equal(await again('hostname'), HOSTNAME);
      assert.equal(await again('findmnt -n -o FSTYPE /'), 'tmpfs');
      assert.match(await again('cloud-init status --wait'), /status: done/);
      assert.equal(((await lab.stack.call('GET', `/machines/${id}/`)).body as Json).status_name, 'Deployed');
      const serial = lab.serialLog();
      assert.match(serial, /mf\.ephemeral=again/, 'the reboot netbooted the OS from RAM again');
      assert.ok(diskStartIsZero(), 'the disk was still never written');

      const rel = await lab.stack.call('POST', `/machines/${id}/op-release`, { erase: 'true' });
      assert.equal(rel.status, 200, rel.text);
      const ready = await waitForMachine(lab, id, 'Ready', 300_000);
      assert.equal(ready.ephemeral_deploy, false);
      assert.equal(await lab.power('query'), 'off');
      const after = ((await lab.stack.call('GET', `/events/?op=query&id=${id}&limit=500&level=DEBUG`)).body as Json)
        .events as Json[];
      const text = after.map((e) => String(e.description)).join('\n');
      assert.match(text, /nothing to erase/);
      assert.doesNotMatch(text, /Secure erasing|Erasing/);
    });
  },
);
