// A machine's storage as the line-based description images/installer/install-to-disk.sh takes
// (curtin's storage config v1 in the script's own words: `disk`, `part`, `raid`, `vg`, `lv`, `fs`,
// in dependency order), with the firmware to install GRUB for. The deploy installer (issue 13
// items 3-4) asks for it; a configuration the machine cannot boot from (MAAS's
// storage_layout_issues), or one the script cannot lay out, comes back as problems naming why,
// never as a description that would half-install.
import {
  bootDisk,
  filesystemOf,
  isUefi,
  labelProblem,
  membersOf,
  MiB,
  partitionName,
  partitionsOf,
  tableFreeSpace,
  tableOf,
  UUID_FSTYPES,
  volumeGroupFree,
  type MachineStorage,
  type StoredBlockDevice,
  type StoredFilesystem,
  type StoredGroup,
} from './model';

export type InstallerStorage =
  { ok: true; firmware: 'bios' | 'uefi'; description: string } | { ok: false; problems: string[] };

/** What install-to-disk.sh formats (its FSTYPE column) for each of MAAS's filesystem types. */
const SCRIPT_FSTYPE: Record<string, string> = { ext4: 'ext4', xfs: 'xfs', fat32: 'vfat', vfat: 'vfat', swap: 'swap' };
/** A partition (or LV) ending this close to the end of its device is laid out as `rest` (GPT's and LVM's slack). */
const REST_SLACK = 16 * MiB;
/** Roles of filesystems that make their device a member of a group, not a filesystem of its own. */
const MEMBER_FSTYPES = new Set(['lvm-pv', 'raid', 'raid-spare']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** MAAS's storage_layout_issues, and the ESP a UEFI machine boots from. */
export function storageIssues(s: MachineStorage): string[] {
  if (!s.devices.some((d) => d.type === 'physical'))
    return ['Specify a storage device to be able to deploy this node.'];
  const issues: string[] = [];
  if (!s.filesystems.some((f) => f.mountPoint === '/'))
    issues.push("Mount the root '/' filesystem to be able to deploy this node.");
  if (
    isUefi(s) &&
    !s.filesystems.some(
      (f) => f.mountPoint === '/boot/efi' && f.partitionId !== null && (f.fstype === 'fat32' || f.fstype === 'vfat'),
    )
  )
    issues.push(
      'This machine boots with UEFI: mount a fat32 EFI system partition at /boot/efi to be able to deploy it.',
    );
  return issues;
}

export function installerStorage(s: MachineStorage): InstallerStorage {
  const issues = storageIssues(s);
  if (issues.length) return { ok: false, problems: issues };
  return new Renderer(s).render();
}

class Renderer {
  private readonly uefi: boolean;
  private readonly lines: string[] = [];
  private readonly fsLines: string[] = [];
  readonly problems: string[] = [];
  /** Partition id → its name on disk (a BIOS disk's added bios_grub partition shifts the numbers). */
  private readonly partNames = new Map<number, string>();
  /** Devices (physical, RAID, LV) whose lines are written: what later lines may name. */
  private readonly rendered = new Set<number>();

  constructor(private readonly s: MachineStorage) {
    this.uefi = isUefi(s);
  }

  render(): InstallerStorage {
    const s = this.s;
    this.lines.push(`# ${s.systemId}: written by metalflow from the machine's storage configuration`);
    const boot = bootDisk(s)!;
    const grubDisks = this.uefi ? new Set<number>() : this.biosGrubDisks(boot);
    const physical = s.devices
      .filter((d) => d.type === 'physical')
      .sort((a, b) => Number(b.id === boot.id) - Number(a.id === boot.id) || a.id - b.id);
    for (const d of physical) {
      const used = tableOf(s, d.id) || filesystemOf(s, { blockDeviceId: d.id });
      if (used || grubDisks.has(d.id)) this.device(d, `/dev/${d.name}`, grubDisks.has(d.id));
    }
    this.groups();
    if (this.problems.length) return { ok: false, problems: this.problems };
    const description = [...this.lines, ...this.fsLines, ''].join('\n');
    return { ok: true, firmware: this.uefi ? 'uefi' : 'bios', description };
  }

  /**
   * The disks GRUB's core.img goes on for a BIOS machine, each given a bios_grub partition first
   * (curtin adds it by itself for MAAS): the boot disk, and every disk holding a member of a
   * RAID 1 that /boot (else /) is on (spares too: one may take over), so the machine boots with any one of them.
   */
  private biosGrubDisks(boot: StoredBlockDevice): Set<number> {
    const s = this.s;
    const disks = new Set([boot.id]);
    const bootFs =
      s.filesystems.find((f) => f.mountPoint === '/boot') ?? s.filesystems.find((f) => f.mountPoint === '/')!;
    const raid = s.devices.find((d) => d.id === this.deviceOf(bootFs))?.filesystemGroupId;
    const group = s.groups.find((g) => g.id === raid && g.groupType === 'raid-1');
    for (const m of group ? membersOf(s, group.id) : []) {
      const id = this.deviceOf(m);
      if (s.devices.find((d) => d.id === id)?.type === 'physical') disks.add(id);
    }
    if (filesystemOf(s, { blockDeviceId: boot.id }))
      this.problems.push(
        `GRUB needs a bios_grub partition on the boot disk ${boot.name}, which is used whole: partition it.`,
      );
    return disks;
  }

  /** The device a filesystem is on: its own, or its partition's. */
  private deviceOf(f: StoredFilesystem): number {
    if (f.blockDeviceId !== null) return f.blockDeviceId;
    const part = this.s.partitions.find((p) => p.id === f.partitionId)!;
    return this.s.tables.find((t) => t.id === part.partitionTableId)!.blockDeviceId;
  }

  /** A disk's (or RAID's) `disk` line and its partitions, or its filesystem when used whole. */
  private device(d: StoredBlockDevice, ref: string, biosGrub: boolean): void {
    const s = this.s;
    this.rendered.add(d.id);
    const whole = filesystemOf(s, { blockDeviceId: d.id });
    if (whole) {
      if (ref.startsWith('/dev/')) this.lines.push(`disk ${ref} whole`);
      this.fsLine(d.name, whole);
      return;
    }
    if (!tableOf(s, d.id) && !biosGrub) return;
    this.lines.push(`disk ${ref}`);
    let n = 0;
    if (biosGrub) {
      this.lines.push(`part bios_grub 1M none none`);
      n++;
    }
    const parts = partitionsOf(s, d.id);
    for (const [i, p] of parts.entries()) {
      this.partNames.set(p.id, partitionName(d, ++n));
      const last = i === parts.length - 1;
      const size = last && tableFreeSpace(s, d) < REST_SLACK ? 'rest' : `${Math.floor(p.size / MiB)}M`;
      this.lines.push(this.partLine(filesystemOf(s, { partitionId: p.id }), size));
    }
  }

  /** RAIDs and volume groups, each once everything it is made of has its line. */
  private groups(): void {
    let pending = [...this.s.groups];
    while (pending.length) {
      const ready = pending.filter((g) => membersOf(this.s, g.id).every((m) => this.rendered.has(this.deviceOf(m))));
      if (!ready.length) {
        this.problems.push(`The groups ${pending.map((g) => g.name).join(', ')} are made of each other.`);
        return;
      }
      for (const g of ready) {
        if (g.groupType === 'lvm-vg') this.volumeGroup(g);
        else this.raid(g);
      }
      pending = pending.filter((g) => !ready.includes(g));
    }
  }

  private raid(g: StoredGroup): void {
    const members = membersOf(this.s, g.id);
    const names = (fstype: string) =>
      members
        .filter((m) => m.fstype === fstype)
        .map((m) => this.nameOf(m))
        .join(',') || '-';
    this.lines.push(`raid ${g.name} ${g.groupType.replace('raid-', '')} ${names('raid')} ${names('raid-spare')}`);
    const md = this.s.devices.find((d) => d.filesystemGroupId === g.id);
    if (md) this.device(md, g.name, false);
  }

  private volumeGroup(g: StoredGroup): void {
    const s = this.s;
    this.lines.push(
      `vg ${g.name} ${membersOf(s, g.id)
        .map((m) => this.nameOf(m))
        .join(',')}`,
    );
    const lvs = s.devices.filter((d) => d.filesystemGroupId === g.id).sort((a, b) => a.id - b.id);
    for (const [i, lv] of lvs.entries()) {
      this.rendered.add(lv.id);
      const last = i === lvs.length - 1 && volumeGroupFree(s, g) < REST_SLACK;
      this.lines.push(
        `lv ${g.name} ${lv.name.slice(g.name.length + 1)} ${last ? 'rest' : `${Math.floor(lv.size / MiB)}M`}`,
      );
      if (tableOf(s, lv.id))
        this.problems.push(`install-to-disk.sh does not partition logical volumes: ${lv.name} has a partition table.`);
      const fs = filesystemOf(s, { blockDeviceId: lv.id });
      if (fs) this.fsLine(lv.name, fs);
    }
  }

  /** A group member's name in the description: its partition's, or its device's. */
  private nameOf(m: StoredFilesystem): string {
    if (m.partitionId !== null) return this.partNames.get(m.partitionId)!;
    return this.s.devices.find((d) => d.id === m.blockDeviceId)!.name;
  }

  private partLine(fs: StoredFilesystem | undefined, size: string): string {
    if (!fs || MEMBER_FSTYPES.has(fs.fstype)) return `part linux ${size} none none`;
    const [fstype, mount, rest] = this.fsColumns(fs);
    const role = mount === '/boot/efi' && fstype === 'vfat' ? 'esp' : fstype === 'swap' ? 'swap' : 'linux';
    return `part ${role} ${size} ${fstype} ${mount}${rest}`;
  }

  private fsLine(name: string, fs: StoredFilesystem): void {
    if (MEMBER_FSTYPES.has(fs.fstype)) return;
    const [fstype, mount, rest] = this.fsColumns(fs);
    this.fsLines.push(`fs ${name} ${fstype} ${mount}${rest}`);
  }

  /**
   * FSTYPE, MOUNTPOINT and the optional LABEL OPTIONS UUID columns. A label or UUID mkfs would
   * refuse is a problem (format refuses them; rows from before it did may hold one), never left out.
   */
  private fsColumns(fs: StoredFilesystem): [string, string, string] {
    const fstype = SCRIPT_FSTYPE[fs.fstype];
    if (!fstype)
      this.problems.push(`install-to-disk.sh makes ext4, xfs, fat32 (vfat) and swap filesystems; not ${fs.fstype}.`);
    const mount = fs.mountPoint && fs.mountPoint !== 'none' ? fs.mountPoint : 'none';
    if (/\s/.test(mount)) this.problems.push(`The mount point '${mount}' has white space, which fstab cannot hold.`);
    const options = fs.mountOptions?.trim() ?? '';
    if (/\s/.test(options))
      this.problems.push(`The mount options '${options}' of ${mount} have white space, which fstab cannot hold.`);
    const labelError = labelProblem(fs.fstype, fs.label);
    if (labelError) this.problems.push(`${mount}: ${labelError}`);
    // FAT takes no UUID (format refuses one); the one the region generated for it stays unused, as with curtin.
    const uuid = UUID_FSTYPES.includes(fs.fstype) ? fs.uuid : '';
    if (uuid && !UUID.test(uuid)) this.problems.push(`${mount}: '${uuid}' is not a valid filesystem UUID.`);
    const columns = [fs.label || '-', options || '-', uuid || '-'];
    while (columns.at(-1) === '-') columns.pop();
    return [fstype ?? fs.fstype, mount, columns.map((c) => ` ${c}`).join('')];
  }
}
