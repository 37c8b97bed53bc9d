// The storage description the deploy installer lays out (images/installer/install-to-disk.sh's
// format: `disk DEVICE` then `part ROLE SIZE FSTYPE MOUNTPOINT [LABEL]` lines). Until the storage
// model API (issue 13 item 2) stores a machine's own layout, every machine gets MAAS's `flat`
// layout on its boot disk; that work replaces the body of installerStorageLayout, nothing else.
import type { Machine } from '../db/entities';

/**
 * The disk the installer resolves itself when commissioning reported none: its first whole disk
 * (the ephemeral environment's `first_disk`), as MAAS picks the first disk as the boot disk.
 */
export const FIRST_DISK = 'first';

const KERNEL_DISK_NAME = /^[a-z][a-z0-9]{1,31}$/;

/**
 * MAAS's flat layout on the boot disk, GPT: a 1 MiB BIOS boot partition (GRUB's core.img on a BIOS
 * machine) and a 512 MiB ESP (MAAS's EFI partition size), so the same disk boots under BIOS and
 * UEFI, then the root filesystem (ext4, labelled root) on the rest.
 */
export function installerStorageLayout(machine: Pick<Machine, 'blockDevices'>): string {
  const bootDisk = machine.blockDevices[0]?.name;
  // A name is what the machine reported: one that is not a plain kernel name (sda, nvme0n1) is
  // never put into a line the installer parses.
  const disk = bootDisk && KERNEL_DISK_NAME.test(bootDisk) ? `/dev/${bootDisk}` : FIRST_DISK;
  return [
    `disk ${disk}`,
    'part bios_grub 1M none none',
    'part esp 512M vfat /boot/efi',
    'part linux rest ext4 / root',
    '',
  ].join('\n');
}
