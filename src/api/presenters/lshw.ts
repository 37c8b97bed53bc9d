// A machine's hardware report in lshw's XML shape (`lshw -xml`), for MAAS's `details` reply,
// which carries the lshw output of commissioning: the system (DMI), its CPUs, memory, disks and
// network interfaces as the ephemeral environment reported them. Only what the report has.
import type { HardwareReport } from '../../contracts/hardware';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
const el = (tag: string, value: string | number, attrs = '') =>
  value === '' ? '' : `<${tag}${attrs}>${escape(String(value))}</${tag}>`;

export function lshwXml(hostname: string, r: HardwareReport): string {
  const dmi = (...keys: string[]) => keys.map((k) => r.dmi[k]).find((v) => v !== undefined) ?? '';
  const uuid = dmi('uuid', 'product_uuid');
  const cpus = Array.from(
    { length: r.cpu.count },
    (_, i) =>
      `<node id="cpu:${i}" class="processor">${el('product', r.cpu.model)}${el('size', r.cpu.speed_mhz * 1_000_000, ' units="Hz"')}</node>`,
  );
  const disks = r.block_devices.map(
    (d, i) =>
      `<node id="disk:${i}" class="disk">${el('product', d.model)}${el('logicalname', `/dev/${d.name}`)}${el('serial', d.serial)}${el('size', d.size_bytes, ' units="bytes"')}</node>`,
  );
  const nics = r.interfaces
    .filter((n) => (n.type ?? 'physical') === 'physical')
    .map(
      (n, i) =>
        `<node id="network:${i}" class="network">${el('logicalname', n.name)}${el('serial', n.mac)}${n.link_speed_mbps ? el('capacity', n.link_speed_mbps * 1_000_000, ' units="bit/s"') : ''}</node>`,
    );
  return [
    '<?xml version="1.0" standalone="yes" ?>',
    '<list>',
    `<node id="${escape(hostname)}" class="system">${el('product', dmi('product', 'product_name'))}${el('vendor', dmi('vendor', 'sys_vendor'))}${el('serial', dmi('serial', 'product_serial'))}`,
    uuid ? `<configuration><setting id="uuid" value="${escape(uuid)}" /></configuration>` : '',
    '<node id="core" class="bus">',
    ...cpus,
    `<node id="memory" class="memory">${el('size', r.memory_mib * 1024 * 1024, ' units="bytes"')}</node>`,
    ...disks,
    ...nics,
    '</node>',
    '</node>',
    '</list>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}
