// Deploy the real Debian image (images/debian/build.sh: root.tgz) to the lab's QEMU VM (SeaBIOS)
// and check it as its owner would: the installer in the ephemeral environment lays the image out
// with install-to-disk.sh (GPT: BIOS boot + ESP + ext4 root), writes cloud-init's MAAS datasource
// config with the machine's token; the VM boots GRUB from its disk, Debian's cloud-init reads
// meta-data and user-data from the metadata server and its final report makes the machine
// DEPLOYED. Then `ssh -i <owner's key>` into it (inside the lab namespace): hostname, `findmnt /`,
// `cloud-init status`, and the user_data's mark. The lab gets its own boot root with the real
// image (lab/real-image.ts, shared with the UEFI run in real-image-uefi.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startLab, type Json, type Lab } from './lab/lab';
import { bootRootWithRealImage, commissionAndDeploy, ownerKeyDir, sshToDeployed } from './lab/real-image';

const HOSTNAME = 'e2e-real';

describe('deploy the real Debian image (BIOS) and log in over SSH', { timeout: 40 * 60_000 }, () => {
  let lab: Lab;
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

  it('lists the real image as the deployable debian/bookworm', async () => {
    const list = (await lab.stack.call('GET', '/boot-resources/')).body as Json[];
    const bookworm = list.find((r) => r.name === 'debian/bookworm');
    assert.ok(bookworm, JSON.stringify(list));
    const one = (await lab.stack.call('GET', `/boot-resources/${bookworm.id as number}/`)).body as Json;
    assert.ok(JSON.stringify(one).includes('root-tgz'), JSON.stringify(one));
  });

  it('commissions, deploys (DEPLOYED by cloud-init), and the owner logs in with the key', async () => {
    await commissionAndDeploy(lab, { hostname: HOSTNAME, keyDir: work });
    const ssh = await sshToDeployed(lab, work);
    assert.equal(ssh('hostname'), HOSTNAME);
    // MAAS's flat layout, which commissioning applied, on a BIOS machine: the bios_grub partition
    // install-to-disk.sh adds, then the root partition on the rest of the disk.
    assert.match(ssh('findmnt -n -o SOURCE,FSTYPE /'), /^\/dev\/vda2 ext4$/);
    assert.match(ssh('cloud-init status --wait'), /status: done/);
    assert.equal(ssh('cat /var/tmp/metalflow-user-data'), `metalflow user-data ran on ${HOSTNAME}`);
  });
});
