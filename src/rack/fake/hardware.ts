// The hardware report a FAKE machine uploads when commissioned (file metalflow-hardware.json):
// the same shape the region parses from a real ephemeral environment.
import crypto from 'node:crypto';
import type { HardwareReport } from '../../contracts/hardware';
import type { BootConfig } from '../../contracts/rack-api';
import type { FakeParams } from './params';

export { HARDWARE_FILE } from '../../contracts/hardware';
export type FakeHardwareReport = HardwareReport;

/** Stable per machine, so re-commissioning reports the same serials and UUID. */
function digest(systemId: string): Buffer {
  return crypto.createHash('sha256').update(`metalflow-fake:${systemId}`).digest();
}

function uuidOf(systemId: string): string {
  const h = digest(systemId).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A locally administered MAC for a machine created without one. */
function macOf(systemId: string): string {
  const b = digest(systemId);
  return ['52', '54', '00', ...[b[0], b[1], b[2]].map((x) => (x ?? 0).toString(16).padStart(2, '0'))].join(':');
}

export function fakeHardwareReport(boot: BootConfig, p: FakeParams): FakeHardwareReport {
  const macs = boot.macAddresses.length > 0 ? boot.macAddresses : [macOf(boot.systemId)];
  const serial = `FAKE-${boot.systemId.toUpperCase()}`;
  return {
    architecture: 'amd64/generic',
    cpu: { count: p.cpuCount, model: 'metalflow fake CPU', speed_mhz: 2400 },
    memory_mib: p.memoryMib,
    block_devices: [{ name: 'sda', size_bytes: p.diskBytes, serial: `${serial}-DISK0`, model: 'metalflow fake disk' }],
    interfaces: macs.map((mac, i) => ({ name: `eth${i}`, mac, link_speed_mbps: 1000 })),
    dmi: { vendor: 'metalflow', product: 'fake machine', serial, uuid: uuidOf(boot.systemId) },
  };
}
