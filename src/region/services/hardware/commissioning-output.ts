// MAAS's built-in commissioning scripts' output → our HardwareReport (contracts/hardware.ts), so a
// machine's hardware facts come from its script results as in MAAS: 50-maas-01-commissioning's
// resources JSON (machine-resources, LXD's resources API shape) for CPU, memory, disks, NICs and
// DMI, and 00-maas-01-lshw's XML for what the resources leave out (how the machine booted).
// Pure: the caller (the script results service) hands it the stored outputs; the result goes
// through the same schema and limits as a metalflow-hardware.json report.
import { DOMParser } from '@xmldom/xmldom';
import { xpath } from '../xpath-lite';
import type { HardwareReport, InterfaceType } from '../../../contracts/hardware';
import { ValidationError } from '../../errors';
import { parseHardwareReport } from '../hardware-report-schema';

export const RESOURCES_SCRIPT = '50-maas-01-commissioning';
export const LSHW_SCRIPT = '00-maas-01-lshw';

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** Kernel architecture → MAAS's architecture name (maas-run-scripts' maas_arch, without /generic). */
const ARCHITECTURES: Record<string, string> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  aarch64: 'arm64',
  arm64: 'arm64',
  i686: 'i386',
  i386: 'i386',
  armv7l: 'armhf',
  ppc64le: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** resources.system field → our dmi key (the names metalflow-hardware.json uses). */
function dmiOf(system: Obj): Record<string, string> {
  const board = obj(system.motherboard);
  const chassis = obj(system.chassis);
  const firmware = obj(system.firmware);
  const pairs: Array<[string, unknown]> = [
    ['vendor', system.vendor],
    ['product', system.product],
    ['serial', system.serial],
    ['uuid', system.uuid],
    ['board_vendor', board.vendor],
    ['board_name', board.product],
    ['board_serial', board.serial],
    ['chassis_vendor', chassis.vendor],
    ['chassis_type', chassis.type],
    ['chassis_serial', chassis.serial],
    ['bios_vendor', firmware.vendor],
    ['bios_version', firmware.version],
  ];
  return Object.fromEntries(pairs.map(([k, v]) => [k, str(v)]).filter(([, v]) => v !== ''));
}

function cpuOf(cpu: Obj): HardwareReport['cpu'] {
  const sockets = list(cpu.sockets);
  const first = sockets[0] ?? {};
  // The fastest a core runs (turbo when the firmware says), not the current frequency, as the
  // environment's own report does: the facts must not change with the load.
  const speed = Math.max(...sockets.map((s) => Math.max(int(s.frequency_turbo), int(s.frequency))), 0);
  const threads = sockets.flatMap((s) => list(s.cores)).reduce((n, c) => n + list(c.threads).length, 0);
  return { count: int(cpu.total) || threads, model: str(first.name), speed_mhz: speed };
}

function disksOf(storage: Obj): HardwareReport['block_devices'] {
  // MAAS leaves out optical drives and devices without a size (an empty card reader).
  return list(storage.disks)
    .filter((d) => str(d.type) !== 'cdrom' && int(d.size) > 0)
    .map((d) => {
      const deviceId = str(d.device_id);
      const devicePath = str(d.device_path);
      const idPath = deviceId ? `/dev/disk/by-id/${deviceId}` : devicePath ? `/dev/disk/by-path/${devicePath}` : '';
      return {
        name: str(d.id),
        size_bytes: int(d.size),
        serial: str(d.serial),
        model: str(d.model),
        ...(idPath ? { id_path: idPath } : {}),
        block_size: int(d.block_size) || 512,
      };
    });
}

function interfacesOf(network: Obj, networks: Obj): HardwareReport['interfaces'] {
  const physical = list(network.cards).flatMap((card) =>
    list(card.ports).map((p) => ({
      name: str(p.id),
      mac: str(p.address).toLowerCase(),
      link_speed_mbps: int(p.link_speed),
      type: 'physical' as InterfaceType,
      link_connected: p.link_detected === true,
    })),
  );
  const seen = new Set(physical.map((i) => i.name));
  // The top-level "networks" (LXD's network state) has the workload's bonds, bridges and VLANs.
  const virtual = Object.entries(networks).flatMap(([name, v]) => {
    const n = obj(v);
    const type: InterfaceType | undefined =
      n.bond !== null && n.bond !== undefined
        ? 'bond'
        : n.bridge !== null && n.bridge !== undefined
          ? 'bridge'
          : n.vlan !== null && n.vlan !== undefined
            ? 'vlan'
            : undefined;
    if (!type || seen.has(name)) return [];
    return [
      { name, mac: str(n.hwaddr).toLowerCase(), link_speed_mbps: 0, type, link_connected: str(n.state) === 'up' },
    ];
  });
  return [...physical, ...virtual];
}

/** lshw's XML: UEFI when the firmware node has the uefi capability (lshw reads /sys/firmware/efi). */
export function firmwareFromLshw(xml: string): HardwareReport['firmware'] {
  const errors: string[] = [];
  let doc: ReturnType<DOMParser['parseFromString']> | undefined;
  try {
    doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && errors.push(msg)) }).parseFromString(
      xml,
      'text/xml',
    );
  } catch {
    // xmldom throws its ParseError on fatal errors (unclosed tags) after reporting them.
    doc = undefined;
  }
  if (!doc || errors.length > 0 || !doc.documentElement)
    throw ValidationError.field(LSHW_SCRIPT, 'Not valid lshw XML.');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- xpath's and xmldom's Node types differ
  const uefi = xpath.select("//node[@id='firmware']/capabilities/capability[@id='uefi']", doc as any);
  return Array.isArray(uefi) && uefi.length > 0 ? 'uefi' : 'bios';
}

/**
 * The hardware report 50-maas-01-commissioning's output (and, when given, 00-maas-01-lshw's)
 * describe. Refuses output that is not the resources JSON with a 400 naming the script; the
 * report is then held to the same limits as any report (HARDWARE_LIMITS).
 */
export function hardwareFromCommissioningOutput(output: {
  resources: Buffer | string;
  lshw?: Buffer | string;
}): HardwareReport {
  let data: unknown;
  try {
    data = JSON.parse(output.resources.toString());
  } catch {
    throw ValidationError.field(RESOURCES_SCRIPT, 'Not valid JSON.');
  }
  const top = obj(data);
  const resources = obj(top.resources);
  if (Object.keys(resources).length === 0)
    throw ValidationError.field(RESOURCES_SCRIPT, 'Not machine-resources output: no "resources" object.');
  const cpu = obj(resources.cpu);
  const kernelArch = str(cpu.architecture) || str(obj(top.environment).kernel_architecture);
  const firmware = output.lshw === undefined ? undefined : firmwareFromLshw(output.lshw.toString());
  const report: HardwareReport = {
    architecture: ARCHITECTURES[kernelArch],
    cpu: cpuOf(cpu),
    memory_mib: Math.floor(int(obj(resources.memory).total) / (1024 * 1024)),
    block_devices: disksOf(obj(resources.storage)),
    interfaces: interfacesOf(obj(resources.network), obj(top.networks)),
    dmi: dmiOf(obj(resources.system)),
    ...(firmware ? { firmware } : {}),
  };
  try {
    return parseHardwareReport(Buffer.from(JSON.stringify(report)));
  } catch (e) {
    // The schema names metalflow-hardware.json's paths; here the facts came from the script.
    if (e instanceof ValidationError) throw ValidationError.field(RESOURCES_SCRIPT, e.message);
    throw e;
  }
}
