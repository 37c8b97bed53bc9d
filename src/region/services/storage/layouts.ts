// MAAS's storage layouts (src/maasserver/storage_layouts.py) as a pure plan: flat, lvm and blank
// over a machine's physical devices, with MAAS's parameters, minimum sizes and messages. The
// repository writes the plan after clearing the machine's storage configuration.
import { ValidationError } from '../../errors';
import {
  EFI_PARTITION_SIZE,
  MIN_BOOT_PARTITION_SIZE,
  MIN_ROOT_PARTITION_SIZE,
  PARTITION_TABLE_EXTRA_SPACE,
  alignDown,
  bootDisk,
  isUefi,
  LVM_PE_SIZE,
  type MachineStorage,
} from './model';

/** The layouts metalflow lays out; MAAS's other choices are refused by name. */
export const APPLIED_LAYOUTS = ['flat', 'lvm', 'blank'] as const;
export type AppliedLayout = (typeof APPLIED_LAYOUTS)[number];

export interface LayoutParams {
  bootSize?: string;
  rootSize?: string;
  rootDevice?: number;
  vgName?: string;
  lvName?: string;
  lvSize?: string;
}

export interface PlannedFilesystem {
  fstype: string;
  label: string;
  mountPoint: string;
}
export interface PlannedPartition {
  size: number;
  bootable: boolean;
  /** A filesystem, or the volume group's physical volume. */
  use: PlannedFilesystem | 'lvm-pv';
}
export interface LayoutPlan {
  layout: AppliedLayout;
  tables: Array<{ deviceId: number; partitions: PlannedPartition[] }>;
  volumeGroup?: { name: string; lv: { name: string; size: number | 'all'; fs: PlannedFilesystem } };
}

/** The layout error MAAS raises when a machine has no disk (a 400 with MAAS's text). */
export class MissingBootDiskError extends ValidationError {
  constructor() {
    super({ __all__: ['Machine is missing a boot disk; no storage layout can be applied.'] });
  }
}

const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/**
 * MAAS's BytesOrPercentageField: bytes, a number with a K/M/G/T/P suffix (MAAS's
 * machine_readable_bytes, powers of 1000), or a percentage of `whole`.
 */
export function parseSize(field: string, raw: string, whole: number): number {
  const v = raw.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct) {
    const p = Number(pct[1]);
    if (p <= 0 || p > 100) throw ValidationError.field(field, 'Percentage must be greater than 0 and at most 100.');
    return Math.floor((whole * p) / 100);
  }
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?$/i.exec(v);
  if (!m) throw ValidationError.field(field, `'${v.slice(0, 64)}' is not a valid size.`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  if (!Number.isSafeInteger(bytes)) throw ValidationError.field(field, 'Size is too large.');
  return bytes;
}

function checkRange(field: string, size: number, min: number, max: number): number {
  if (size < min) throw ValidationError.field(field, `Size is too small. Minimum size is ${min}.`);
  if (size > max) throw ValidationError.field(field, `Size is too large. Maximum size is ${max}.`);
  return size;
}

/** The plan for `layout` on `s`'s physical devices; a bad parameter is a ValidationError naming it. */
export function planLayout(s: MachineStorage, layout: AppliedLayout, p: LayoutParams): LayoutPlan {
  const boot = bootDisk(s);
  if (!boot) throw new MissingBootDiskError();
  if (layout === 'blank') return { layout, tables: [] };
  const uefi = isUefi(s);
  const efi = uefi ? EFI_PARTITION_SIZE : 0;
  // Percentages are of the boot disk less the ESP, as MAAS computes them.
  const whole = boot.size - EFI_PARTITION_SIZE;
  const bootSize =
    p.bootSize === undefined
      ? 0
      : checkRange(
          'boot_size',
          parseSize('boot_size', p.bootSize, whole),
          MIN_BOOT_PARTITION_SIZE,
          boot.size - EFI_PARTITION_SIZE - MIN_ROOT_PARTITION_SIZE,
        );
  const rootSize =
    p.rootSize === undefined
      ? undefined
      : checkRange(
          'root_size',
          parseSize('root_size', p.rootSize, whole),
          MIN_ROOT_PARTITION_SIZE,
          boot.size - EFI_PARTITION_SIZE - MIN_BOOT_PARTITION_SIZE,
        );
  const physical = s.devices.filter((d) => d.type === 'physical');
  let root = boot;
  if (p.rootDevice !== undefined) {
    const chosen = physical.find((d) => d.id === p.rootDevice);
    if (!chosen)
      throw ValidationError.field(
        'root_device',
        `'${p.rootDevice}' is not a valid root_device. It should be one of: ${physical.map((d) => `'${d.id}'`).join(', ')}.`,
      );
    root = chosen;
  }
  if (rootSize !== undefined && efi + bootSize + rootSize > boot.size)
    throw ValidationError.field(
      '__all__',
      'Size of the boot partition and root partition are larger than the available space on the boot disk.',
    );

  const bootParts: PlannedPartition[] = [];
  if (uefi)
    bootParts.push({
      size: EFI_PARTITION_SIZE,
      bootable: true,
      use: { fstype: 'fat32', label: 'efi', mountPoint: '/boot/efi' },
    });
  if (bootSize > 0)
    bootParts.push({
      size: alignDown(bootSize),
      bootable: true,
      use: { fstype: 'ext4', label: 'boot', mountPoint: '/boot' },
    });
  const rootFree = alignDown(
    root.size - PARTITION_TABLE_EXTRA_SPACE - (root.id === boot.id ? bootParts.reduce((n, x) => n + x.size, 0) : 0),
  );
  const rootPartSize = rootSize === undefined ? rootFree : Math.min(alignDown(rootSize), rootFree);
  if (rootPartSize < MIN_ROOT_PARTITION_SIZE)
    throw ValidationError.field(
      '__all__',
      `The root device ${root.name} has ${rootPartSize} bytes left for the root partition; the minimum is ${MIN_ROOT_PARTITION_SIZE}.`,
    );
  const rootPart: PlannedPartition = {
    size: rootPartSize,
    bootable: false,
    use: layout === 'lvm' ? 'lvm-pv' : { fstype: 'ext4', label: 'root', mountPoint: '/' },
  };
  const tables =
    root.id === boot.id
      ? [{ deviceId: boot.id, partitions: [...bootParts, rootPart] }]
      : [
          { deviceId: boot.id, partitions: bootParts },
          { deviceId: root.id, partitions: [rootPart] },
        ];
  if (layout === 'flat') return { layout, tables };

  const vgSize = alignDown(rootPartSize) - LVM_PE_SIZE;
  let lvSize: number | 'all' = 'all';
  if (p.lvSize !== undefined) {
    const size = parseSize('lv_size', p.lvSize, rootSize ?? boot.size - EFI_PARTITION_SIZE - bootSize);
    if (size < MIN_ROOT_PARTITION_SIZE)
      throw ValidationError.field('lv_size', `Size is too small. Minimum size is ${MIN_ROOT_PARTITION_SIZE}.`);
    if (size > vgSize) throw ValidationError.field('lv_size', `Size is too large. Maximum size is ${vgSize}.`);
    lvSize = alignDown(size);
  }
  return {
    layout,
    tables,
    volumeGroup: {
      name: nameOr('vg_name', p.vgName, 'vgroot'),
      lv: {
        name: nameOr('lv_name', p.lvName, 'lvroot'),
        size: lvSize,
        fs: { fstype: 'ext4', label: 'root', mountPoint: '/' },
      },
    },
  };
}

/** LVM's names: letters, digits and `+_.-`, not starting with `-` (lvm(8) "VALID NAMES"). */
export function checkLvmName(field: string, name: string): string {
  if (!/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/.test(name) || name === '.' || name === '..')
    throw ValidationError.field(field, `'${name.slice(0, 64)}' is not a valid LVM name.`);
  return name;
}
function nameOr(field: string, v: string | undefined, fallback: string): string {
  return v === undefined || v === '' ? fallback : checkLvmName(field, v);
}
