// The hardware report an ephemeral environment uploads with `op=signal` (a multipart file part of
// this name): what the rack's environments send and the region applies as commissioning results.

export const HARDWARE_FILE = 'metalflow-hardware.json';

export interface HardwareReport {
  architecture?: string;
  cpu: { count: number; model: string; speed_mhz: number };
  memory_mib: number;
  /**
   * id_path: a stable path (/dev/disk/by-id/...) when the disk has no serial; block_size: its
   * logical sector size (512 when absent). Both optional: older environments do not send them.
   */
  block_devices: Array<{
    name: string;
    size_bytes: number;
    serial: string;
    model: string;
    id_path?: string;
    block_size?: number;
  }>;
  /** How the environment was booted (`/sys/firmware/efi` exists: uefi); MAAS's bios_boot_method. */
  firmware?: Firmware;
  /** type: physical when absent; VLANs, bridges and bonds are the workload's (release removes them). */
  /** link_connected: the NIC's carrier (sysfs carrier); absent when it could not be read. */
  interfaces: Array<{
    name: string;
    mac: string;
    link_speed_mbps: number;
    type?: InterfaceType;
    link_connected?: boolean;
  }>;
  dmi: Record<string, string>;
}

export const FIRMWARES = ['bios', 'uefi'] as const;
export type Firmware = (typeof FIRMWARES)[number];

export const INTERFACE_TYPES = ['physical', 'vlan', 'bridge', 'bond'] as const;
export type InterfaceType = (typeof INTERFACE_TYPES)[number];

/**
 * What the region accepts in a report (issue 15): beyond these a report is refused with a 400
 * naming the path in the report, and nothing is stored. Generous for real hardware, small enough
 * that nothing derived from a report (rows, JSON, presenters) can grow without bound.
 */
export const HARDWARE_LIMITS = {
  /** Logical CPUs (Linux's NR_CPUS maximum is 8,192 on x86; twice that for headroom). */
  cpuCount: 16_384,
  cpuSpeedMhz: 1_000_000,
  /** 64 TiB. */
  memoryMib: 64 * 1024 * 1024,
  blockDevices: 1_024,
  /** Integer bytes JSON numbers represent exactly (8 PiB per disk). */
  diskBytes: Number.MAX_SAFE_INTEGER,
  interfaces: 1_024,
  linkSpeedMbps: 10_000_000,
  dmiKeys: 64,
  /** Names (devices, interfaces, DMI keys, the architecture). */
  nameLength: 64,
  /** Free text (models, serials, DMI values). */
  textLength: 1_024,
  /** The report file itself. */
  fileBytes: 2 * 1024 * 1024,
} as const;
