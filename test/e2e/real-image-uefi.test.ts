// Deploy the real Debian image to the lab's VM booting OVMF (UEFI) instead of SeaBIOS, the whole
// way through metalflow's rack: UEFI PXE (DHCP option 93: EFI) → ipxe.efi over TFTP → the
// ephemeral environment, which reports the machine as UEFI (MAAS's bios_boot_method: uefi), so
// commissioning lays out MAAS's flat layout for UEFI (a 512 MiB fat32 ESP at /boot/efi, then /);
// the installer puts GRUB x86_64-efi (shim) on the ESP and registers a `debian` entry in the VM's
// NVRAM, keeping the network entry first (curtin's reorder for MAAS). The post-install boot then goes
// through the network (the rack's `local` answer hands back to the firmware) to the disk, and the
// owner logs in: hostname, `findmnt /` and `/boot/efi`, /sys/firmware/efi, cloud-init done, the
// user_data's mark, and NVRAM's BootOrder with the network first.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEPLOY_PHASES_FILE, recordDeployBench } from './lab/deploy-bench';
import { startLab, type Json, type Lab } from './lab/lab';
import { bootRootWithRealImage, commissionAndDeploy, ownerKeyDir, sshToDeployed } from './lab/real-image';

const HOSTNAME = 'e2e-uefi';

describe('deploy the real Debian image on a UEFI machine (OVMF) and log in over SSH', { timeout: 40 * 60_000 }, () => {
  let lab: Lab;
  let id: string;
  let work: string;
  let bootRoot: string;

  before(async () => {
    work = ownerKeyDir();
    bootRoot = bootRootWithRealImage();
    // 5 GiB: MAAS's flat layout on UEFI is a 512 MiB ESP and a root of at least 3 GiB.
    lab = await startLab({
      diskFormat: 'raw',
      bootRoot,
      nodeTimeoutSeconds: 1200,
      diskBytes: 5 * 1024 ** 3,
      firmware: 'uefi',
    });
    await lab.enableDhcp();
  });
  after(async () => {
    await lab?.stop();
    for (const d of [work, bootRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('commissions as UEFI, deploys with an ESP, registers the boot entry behind the network, and the owner logs in', async () => {
    ({ id } = await commissionAndDeploy(lab, { hostname: HOSTNAME, keyDir: work }));
    const machine = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
    assert.equal(machine.bios_boot_method, 'uefi');
    const chassis = fs.readFileSync(`${lab.bmc.dir}/chassis.log`, 'utf8');
    assert.match(chassis, /vm start boot=\S+ firmware=uefi/);
    // OVMF's own PXE (option 93: EFI) was handed the rack's EFI loader over TFTP.
    assert.match(lab.stack.logs('rack'), /tftp: \S+ RRQ ipxe\.efi/);
    // The boot after the installer powered off went straight to the new `debian` entry: the
    // installer set BootNext to it (iPXE's `exit 1` to the next BootOrder entry stalls under OVMF).
    const boots = lab.serialLog().split('\n=== next boot ===\n');
    assert.match(boots.at(-1)!, /BdsDxe: starting Boot[0-9A-F]{4} "debian"/, boots.at(-1)!.slice(-3000));

    const ssh = await sshToDeployed(lab, work, id);
    assert.equal(await ssh('hostname'), HOSTNAME);
    assert.equal(await ssh('[ -d /sys/firmware/efi ] && echo uefi || echo bios'), 'uefi');
    // MAAS's flat layout on a UEFI machine: the ESP first, then root on the rest of the disk.
    assert.match(await ssh('findmnt -n -o SOURCE,FSTYPE /boot/efi'), /^\/dev\/vda1 vfat$/);
    assert.match(await ssh('findmnt -n -o SOURCE,FSTYPE /'), /^\/dev\/vda2 ext4$/);
    assert.match(await ssh('cloud-init status --wait'), /status: done/);
    assert.equal(await ssh('cat /var/tmp/metalflow-user-data'), `metalflow user-data ran on ${HOSTNAME}`);

    // NVRAM: one `debian` entry (shim on the ESP), in BootOrder after the network entry the
    // machine PXE-boots from, so release and commissioning still netboot it.
    const nvram = await ssh('sudo -n efibootmgr -v');
    const entries = [...nvram.matchAll(/^Boot([0-9A-F]{4})\*? (.*)$/gm)].map((m) => ({ num: m[1]!, text: m[2]! }));
    const debian = entries.filter((e) => /^debian\t/.test(e.text) || e.text.startsWith('debian '));
    assert.equal(debian.length, 1, nvram);
    assert.match(debian[0]!.text, /\\EFI\\debian\\shimx64\.efi/i, nvram);
    const order = /^BootOrder: (.*)$/m.exec(nvram)?.[1]?.split(',') ?? [];
    const first = entries.find((e) => e.num === order[0]);
    assert.ok(first && /PXE|MAC\(/i.test(first.text), `network first in BootOrder:\n${nvram}`);
    assert.ok(order.includes(debian[0]!.num), `debian in BootOrder:\n${nvram}`);
    assert.equal(/^BootCurrent: (.*)$/m.exec(nvram)?.[1], debian[0]!.num, `booted from the debian entry:\n${nvram}`);
  });

  it(
    "bench deploy-real-uefi: the deployment's phases, then the installed disk's plain boot",
    { skip: !DEPLOY_PHASES_FILE && 'METALFLOW_DEPLOY_PHASES_FILE is not set' },
    () => recordDeployBench(lab, { id, keyDir: work, firmware: 'uefi' }),
  );
});
