// The hardware report's schema (contracts/hardware.ts), checked before anything is stored: both
// the commissioning environment's `op=signal` and `maas-run-scripts report-results` on deployed
// machines go through here. Integers where integers are meant, HARDWARE_LIMITS as bounds, no
// control characters, no fields the contract does not have; a bad report is a 400 naming the path
// in the report (e.g. `cpu.count`, `interfaces[3].mac`). Absent fields keep their old defaults
// (a partial report from a BMC-side tool, e.g. examples/redfish-hardware.py, is still a report).
import {
  FIRMWARES,
  HARDWARE_FILE,
  HARDWARE_LIMITS as L,
  INTERFACE_TYPES,
  type HardwareReport,
  type InterfaceType,
} from '../../contracts/hardware';
import { ValidationError } from '../errors';
import { normaliseMac } from './machine-validation';

type Obj = Record<string, unknown>;

/** `path` '' is the report as a whole. */
const refuse = (path: string, message: string): never => {
  throw ValidationError.field(path || HARDWARE_FILE, `${HARDWARE_FILE}: ${path ? `${path} ` : ''}${message}`);
};

// C0 controls and DEL: a NUL cannot be stored at all, the rest have no place in a name or model.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function object(v: unknown, path: string, keys: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return refuse(path, 'must be a JSON object.');
  const unknown = Object.keys(v).find((k) => !keys.includes(k));
  if (unknown !== undefined) refuse(path ? `${path}.${unknown}` : unknown, `is not a field of the hardware report.`);
  return v as Obj;
}

function integer(v: unknown, path: string, max: number): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    return refuse(path, `must be an integer from 0 to ${max}.`);
  return v;
}

function text(v: unknown, path: string, maxLength: number): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') return refuse(path, 'must be a string.');
  if (v.length > maxLength) return refuse(path, `is longer than ${maxLength} characters.`);
  if (CONTROL.test(v)) return refuse(path, 'contains a control character.');
  return v;
}

function array(v: unknown, path: string, maxItems: number): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return refuse(path, 'must be a JSON array.');
  if (v.length > maxItems) return refuse(path, `has more than ${maxItems} entries.`);
  return v;
}

export function parseHardwareReport(raw: Buffer): HardwareReport {
  if (raw.length > L.fileBytes) refuse('', `is larger than ${L.fileBytes} bytes.`);
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8'));
  } catch {
    throw ValidationError.field(HARDWARE_FILE, 'Not valid JSON.');
  }
  const top = object(data, '', ['architecture', 'cpu', 'memory_mib', 'block_devices', 'interfaces', 'dmi', 'firmware']);
  const firmware = top.firmware === undefined ? undefined : FIRMWARES.find((f) => f === top.firmware);
  if (top.firmware !== undefined && !firmware) refuse('firmware', `must be one of ${FIRMWARES.join(', ')}.`);
  const cpu = top.cpu === undefined ? {} : object(top.cpu, 'cpu', ['count', 'model', 'speed_mhz']);
  return {
    architecture: text(top.architecture, 'architecture', L.nameLength) || undefined,
    cpu: {
      count: integer(cpu.count, 'cpu.count', L.cpuCount),
      model: text(cpu.model, 'cpu.model', L.textLength),
      speed_mhz: integer(cpu.speed_mhz, 'cpu.speed_mhz', L.cpuSpeedMhz),
    },
    memory_mib: integer(top.memory_mib, 'memory_mib', L.memoryMib),
    block_devices: array(top.block_devices, 'block_devices', L.blockDevices).map((d, i) => {
      const at = `block_devices[${i}]`;
      const disk = object(d, at, ['name', 'size_bytes', 'serial', 'model', 'id_path', 'block_size']);
      return {
        name: text(disk.name, `${at}.name`, L.nameLength),
        size_bytes: integer(disk.size_bytes, `${at}.size_bytes`, L.diskBytes),
        serial: text(disk.serial, `${at}.serial`, L.textLength),
        model: text(disk.model, `${at}.model`, L.textLength),
        ...(disk.id_path === undefined ? {} : { id_path: text(disk.id_path, `${at}.id_path`, L.textLength) }),
        ...(disk.block_size === undefined ? {} : { block_size: integer(disk.block_size, `${at}.block_size`, 65_536) }),
      };
    }),
    interfaces: array(top.interfaces, 'interfaces', L.interfaces).flatMap((n, i) => {
      const at = `interfaces[${i}]`;
      const nic = object(n, at, ['name', 'mac', 'link_speed_mbps', 'type', 'link_connected']);
      if (nic.link_connected !== undefined && typeof nic.link_connected !== 'boolean')
        refuse(`${at}.link_connected`, 'must be true or false.');
      const name = text(nic.name, `${at}.name`, L.nameLength);
      const link_speed_mbps = integer(nic.link_speed_mbps, `${at}.link_speed_mbps`, L.linkSpeedMbps);
      const type = nic.type === undefined ? 'physical' : INTERFACE_TYPES.find((t) => t === nic.type);
      if (!type) refuse(`${at}.type`, `must be one of ${INTERFACE_TYPES.join(', ')}.`);
      // Not an Ethernet MAC (e.g. InfiniBand's 20 bytes): not a NIC a machine record can hold;
      // left out, as before, rather than failing the whole commissioning.
      const mac = normaliseMac(text(nic.mac, `${at}.mac`, L.nameLength));
      const carrier = nic.link_connected === undefined ? {} : { link_connected: nic.link_connected as boolean };
      return mac ? [{ name: name || 'eth', mac, link_speed_mbps, type: type as InterfaceType, ...carrier }] : [];
    }),
    dmi: dmiOf(top.dmi),
    ...(firmware ? { firmware } : {}),
  };
}

function dmiOf(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return refuse('dmi', 'must be a JSON object.');
  const entries = Object.entries(v as Obj);
  if (entries.length > L.dmiKeys) refuse('dmi', `has more than ${L.dmiKeys} keys.`);
  return Object.fromEntries(
    entries.map(([k, value]) => {
      if (!/^[A-Za-z0-9_]{1,64}$/.test(k))
        refuse('dmi', `key ${JSON.stringify(k.slice(0, 64))} is not a DMI field name.`);
      return [k, text(value, `dmi.${k}`, L.textLength)];
    }),
  );
}
