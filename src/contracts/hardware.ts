// The hardware report an ephemeral environment uploads with `op=signal` (a multipart file part of
// this name): what the rack's environments send and the region applies as commissioning results.

export const HARDWARE_FILE = 'metalflow-hardware.json';

export interface HardwareReport {
  architecture?: string;
  cpu: { count: number; model: string; speed_mhz: number };
  memory_mib: number;
  block_devices: Array<{ name: string; size_bytes: number; serial: string; model: string }>;
  /** type: physical when absent; VLANs, bridges and bonds are the workload's (release removes them). */
  interfaces: Array<{ name: string; mac: string; link_speed_mbps: number; type?: InterfaceType }>;
  dmi: Record<string, string>;
}

export const INTERFACE_TYPES = ['physical', 'vlan', 'bridge', 'bond'] as const;
export type InterfaceType = (typeof INTERFACE_TYPES)[number];
