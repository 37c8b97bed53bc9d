// A machine's storage as the line-based description images/installer/install-to-disk.sh takes
// (`disk DEVICE`, then `part ROLE SIZE FSTYPE MOUNTPOINT [LABEL]` in order), with the firmware to
// install GRUB for. The deploy installer (issue 13 items 3-4) asks for it; a configuration the
// machine cannot boot from (MAAS's storage_layout_issues), or one the script cannot lay out yet,
// comes back as problems naming why, never as a description that would half-install.
import {
  bootDisk,
  filesystemOf,
  isUefi,
  MiB,
  partitionsOf,
  tableFreeSpace,
  type MachineStorage,
  type StoredFilesystem,
} from './model';

export type InstallerStorage =
  { ok: true; firmware: 'bios' | 'uefi'; description: string } | { ok: false; problems: string[] };

/** What install-to-disk.sh formats (its FSTYPE column) for each of MAAS's filesystem types. */
const SCRIPT_FSTYPE: Record<string, string> = { ext4: 'ext4', fat32: 'vfat', vfat: 'vfat', swap: 'swap' };
/** A partition ending this close to the end of its disk is laid out as `rest` (GRUB's and GPT's slack). */
const REST_SLACK = 16 * MiB;

/** MAAS's storage_layout_issues, and the ESP a UEFI machine boots from. */
export function storageIssues(s: MachineStorage): string[] {
  if (!s.devices.some((d) => d.type === 'physical'))
    return ['Specify a storage device to be able to deploy this node.'];
  const issues: string[] = [];
  if (!s.filesystems.some((f) => f.mountPoint === '/'))
    issues.push("Mount the root '/' filesystem to be able to deploy this node.");
  if (
    isUefi(s) &&
    !s.filesystems.some((f) => f.mountPoint === '/boot/efi' && (f.fstype === 'fat32' || f.fstype === 'vfat'))
  )
    issues.push(
      'This machine boots with UEFI: mount a fat32 EFI system partition at /boot/efi to be able to deploy it.',
    );
  return issues;
}

export function installerStorage(s: MachineStorage): InstallerStorage {
  const issues = storageIssues(s);
  if (issues.length) return { ok: false, problems: issues };
  const uefi = isUefi(s);
  const root = s.filesystems.find((f) => f.mountPoint === '/')!;
  const problems: string[] = [];
  if (root.partitionId === null)
    problems.push('install-to-disk.sh installs onto partitions of one disk: / is not on a partition.');
  if (s.groups.length) problems.push('install-to-disk.sh lays out no LVM volume groups or RAIDs yet.');
  const disk =
    root.partitionId === null
      ? bootDisk(s)!
      : s.devices.find((d) => partitionsOf(s, d.id).some((p) => p.id === root.partitionId))!;
  const elsewhere = s.filesystems.filter((f) => f.mountPoint && !onDisk(s, f, disk.id));
  if (elsewhere.length)
    problems.push(
      `install-to-disk.sh lays out one disk (${disk.name}): ${elsewhere.map((f) => f.mountPoint).join(', ')} would be on another device.`,
    );
  const lines = [
    `# ${s.systemId}: written by metalflow from the machine's storage configuration`,
    `disk /dev/${disk.name}`,
  ];
  // A BIOS machine boots GRUB from a GPT through a bios_grub partition, which curtin adds by itself
  // for MAAS; the script wants it named.
  if (!uefi) lines.push('part bios_grub 1M none none');
  const parts = partitionsOf(s, disk.id);
  for (const [i, p] of parts.entries()) {
    const fs = filesystemOf(s, { partitionId: p.id });
    const last = i === parts.length - 1;
    const size = last && tableFreeSpace(s, disk) < REST_SLACK ? 'rest' : `${Math.floor(p.size / MiB)}M`;
    const line = partLine(fs, size, problems);
    if (line) lines.push(line);
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, firmware: uefi ? 'uefi' : 'bios', description: `${lines.join('\n')}\n` };
}

function onDisk(s: MachineStorage, f: StoredFilesystem, diskId: number): boolean {
  if (f.partitionId === null) return false;
  return partitionsOf(s, diskId).some((p) => p.id === f.partitionId);
}

function partLine(fs: StoredFilesystem | undefined, size: string, problems: string[]): string | null {
  if (!fs) return `part linux ${size} none none`;
  if (fs.filesystemGroupId !== null) return null;
  const fstype = SCRIPT_FSTYPE[fs.fstype];
  if (!fstype) {
    problems.push(`install-to-disk.sh makes ext4, fat32 (vfat) and swap filesystems; not ${fs.fstype}.`);
    return null;
  }
  const mount = fs.mountPoint && fs.mountPoint !== 'none' ? fs.mountPoint : 'none';
  const role = mount === '/boot/efi' && fstype === 'vfat' ? 'esp' : fstype === 'swap' ? 'swap' : 'linux';
  const label = /^[\w.-]{1,16}$/.test(fs.label) ? ` ${fs.label}` : '';
  return `part ${role} ${size} ${fstype} ${mount}${label}`;
}
