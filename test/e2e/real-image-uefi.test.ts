// Deploy the real Debian image to the lab's VM booting OVMF (UEFI) instead of SeaBIOS, the whole
// way through metalflow's rack: UEFI PXE (DHCP option 93: EFI) → ipxe.efi over TFTP → the
// ephemeral environment, which reports the machine as UEFI (MAAS's bios_boot_method: uefi), so
// commissioning lays out MAAS's flat layout for UEFI (a 512 MiB fat32 ESP at /boot/efi, then /);
// the installer puts GRUB x86_64-efi (shim) on the ESP and registers a `debian` entry in the VM's
// NVRAM, first in BootOrder with the network entry next. The post-install power on sets no PXE
// override (the machine's next boot is its disk), so the firmware boots the OS, and the owner logs
// in: hostname, `findmnt /` and `/boot/efi`, /sys/firmware/efi, cloud-init done, the user_data's
// mark, NVRAM's BootOrder. The OS reboots (`systemctl reboot`) back into itself, not into a
// netboot; and release with erase still netboots it (the BMC's `bootdev pxe options=efiboot`
// becomes BootNext in the lab's NVRAM, chassis.sh), past the disk's entry.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEPLOY_PHASES_FILE, recordDeployBench } from './lab/deploy-bench';
import { startLab, waitForMachine, type Json, type Lab } from './lab/lab';
import {
  bootRootWithRealImage,
  commissionAndDeploy,
  ownerKeyDir,
  rebootDeployed,
  sshToDeployed,
} from './lab/real-image';

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
      // `systemctl reboot` restarts the VM in place, as a machine's reboot does.
      reboots: true,
    });
    await lab.enableDhcp();
  });
  after(async () => {
    await lab?.stop();
    for (const d of [work, bootRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('commissions as UEFI, deploys with an ESP, registers the boot entry behind the network, and the owner logs in', async (t) => {
    ({ id } = await commissionAndDeploy(lab, { hostname: HOSTNAME, keyDir: work }));
    const machine = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
    assert.equal(machine.bios_boot_method, 'uefi');
    const chassis = fs.readFileSync(`${lab.bmc.dir}/chassis.log`, 'utf8');
    assert.match(chassis, /vm start boot=\S+ firmware=uefi/);
    // OVMF's own PXE (option 93: EFI) was handed the rack's EFI loader over TFTP.
    assert.match(lab.stack.logs('rack'), /tftp: \S+ RRQ ipxe\.efi/);
    // Every power on before the disk held the OS forced PXE (the installer's netboot had the
    // network's BootNext); the one after the installer powered off did not, and OVMF went to the
    // `debian` entry first in BootOrder.
    const starts = [...chassis.matchAll(/vm start boot=(\S+)/g)].map((m) => m[1]);
    assert.deepEqual(starts.slice(-2), ['pxe', 'none'], chassis);
    assert.match(chassis, /efi boot next: Boot[0-9A-F]{4}\n/, chassis);
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

    // NVRAM: one `debian` entry (shim on the ESP), first in BootOrder, the network entry the
    // machine PXE-booted from right after it (an erased disk falls through to the network).
    const nvram = await ssh('sudo -n efibootmgr -v');
    const entries = [...nvram.matchAll(/^Boot([0-9A-F]{4})\*? (.*)$/gm)].map((m) => ({ num: m[1]!, text: m[2]! }));
    const debian = entries.filter((e) => /^debian\t/.test(e.text) || e.text.startsWith('debian '));
    assert.equal(debian.length, 1, nvram);
    assert.match(debian[0]!.text, /\\EFI\\debian\\shimx64\.efi/i, nvram);
    const order = /^BootOrder: (.*)$/m.exec(nvram)?.[1]?.split(',') ?? [];
    assert.equal(order[0], debian[0]!.num, `debian first in BootOrder:\n${nvram}`);
    const second = entries.find((e) => e.num === order[1]);
    assert.ok(second && /PXE|MAC\(/i.test(second.text), `the network second in BootOrder:\n${nvram}`);
    assert.equal(/^BootCurrent: (.*)$/m.exec(nvram)?.[1], debian[0]!.num, `booted from the debian entry:\n${nvram}`);

    // A reboot of the OS comes back to the OS (a new boot_id, the same VM process), not to a
    // netboot that stalls; the machine stays Deployed.
    const vmStarts = starts.length;
    const rebooted = await rebootDeployed(lab, work, id, 600_000, (line) => t.diagnostic(line));
    assert.equal(await rebooted.ssh('hostname'), HOSTNAME);
    assert.equal(/^BootCurrent: (.*)$/m.exec(await rebooted.ssh('sudo -n efibootmgr'))?.[1], debian[0]!.num);
    const chassisAfter = fs.readFileSync(`${lab.bmc.dir}/chassis.log`, 'utf8');
    assert.equal([...chassisAfter.matchAll(/vm start boot=/g)].length, vmStarts, 'rebooted in place, not powered on');
    assert.equal(((await lab.stack.call('GET', `/machines/${id}/`)).body as Json).status_name, 'Deployed');
  });

  it(
    "bench deploy-real-uefi: the deployment's phases, then the installed disk's plain boot",
    { skip: !DEPLOY_PHASES_FILE && 'METALFLOW_DEPLOY_PHASES_FILE is not set' },
    () => recordDeployBench(lab, { id, keyDir: work, firmware: 'uefi' }),
  );

  it("releases with erase: the BMC's PXE override netboots it past the disk's entry", async () => {
    const before = fs.readFileSync(`${lab.bmc.dir}/chassis.log`, 'utf8').length;
    const r = await lab.stack.call('POST', `/machines/${id}/op-release`, { erase: 'true', quick_erase: 'true' });
    assert.equal(r.status, 200, r.text);
    await waitForMachine(lab, id, 'Ready', 600_000);
    const chassis = fs.readFileSync(`${lab.bmc.dir}/chassis.log`, 'utf8').slice(before);
    // chassis.sh writes BootNext into the powered-off VM's NVRAM, then starts it: that order.
    assert.match(chassis, /efi boot next: Boot[0-9A-F]{4}\n[^\n]*vm start boot=pxe /, chassis);
    // The erase boot (the VM's last) went to the network first, though `debian` leads BootOrder.
    const last = lab.serialLog().split('\n=== next boot ===\n').at(-1)!;
    assert.match(last, /BdsDxe: starting Boot[0-9A-F]{4} "UEFI PXEv4/, last.slice(-3000));
    assert.doesNotMatch(last, /starting Boot[0-9A-F]{4} "debian"/, last.slice(-3000));
  });
});
