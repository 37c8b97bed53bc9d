// MAAS's structured allocate constraints, parsed and matched: storage
// (`label:size(tag,…),…`, sizes in GB of 1000³ bytes) and interfaces (`label:key=value,…;…`).
// Pure functions: the SQL prefilters with them, the exact storage match runs here.
import { ValidationError } from '../errors';

export interface StorageConstraint {
  label: string;
  sizeBytes: number;
  tags: string[];
}
export interface InterfaceConstraint {
  label: string;
  ids: number[];
  names: string[];
  types: string[];
  hostnames: string[];
  linkSpeed?: number;
  /**
   * MAAS's per-interface networking keys (space, not_space, fabric, subnet, vid, tag, mode, ip…)
   * with their values as given; allocation-network resolves them (names to ids, a 400 for one
   * that names nothing). Values of one key are alternatives; different keys must all hold.
   */
  network: Partial<Record<InterfaceNetworkKey, string[]>>;
}
export interface DeviceLike {
  /** Its block device id; absent, its 1-based position (the list a hardware report stored). */
  id?: number;
  size: number;
  tags?: string[];
}

const STORAGE_PART = /^(?:([a-zA-Z0-9]+):)?([0-9]+(?:\.[0-9]+)?)(?:\(([^)]+)\))?$/;

/**
 * MAAS's order: the first constraint is the root disk (the machine's first device); the others
 * follow, those with the most tags first, so the most specific disk is taken before the others.
 */
export function parseStorage(value: string | undefined): StorageConstraint[] {
  if (value === undefined || value.trim() === '') return [];
  // Commas separate constraints and tags alike: split outside parentheses only.
  const parts = value.split(/,(?![^(]*\))/);
  const parsed = parts.map((part): StorageConstraint => {
    const m = STORAGE_PART.exec(part.trim());
    if (!m) throw ValidationError.field('storage', `Malformed storage constraint, "${value}".`);
    const sizeBytes = Math.round(Number(m[2]) * 1000 ** 3);
    // The size goes into SQL as a number: a 300-digit one would be Infinity there.
    if (!Number.isSafeInteger(sizeBytes))
      throw ValidationError.field('storage', `Storage size too large in "${part.trim()}".`);
    return {
      label: m[1] ?? '',
      sizeBytes,
      tags: m[3]
        ? m[3]
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : [],
    };
  });
  const [head, ...tail] = parsed;
  return head ? [head, ...tail.sort((a, b) => b.tags.length - a.tags.length)] : [];
}

/** MAAS's nodes_by_storage for one machine: device id → label, or null. */
export function matchStorage(devices: DeviceLike[], constraints: StorageConstraint[]): Map<number, string> | null {
  const matched = new Map<number, string>();
  const fits = (d: DeviceLike, c: StorageConstraint) =>
    d.size >= c.sizeBytes && c.tags.every((t) => (d.tags ?? []).includes(t));
  for (const [i, c] of constraints.entries()) {
    if (i === 0) {
      const root = devices[0];
      if (!root || !fits(root, c)) return null;
      matched.set(root.id ?? 1, c.label);
      continue;
    }
    // The smallest free device that fits.
    const pick = devices
      .map((d, idx) => ({ d, id: d.id ?? idx + 1 }))
      .filter(({ d, id }) => !matched.has(id) && fits(d, c))
      .sort((a, b) => a.d.size - b.d.size || a.id - b.id)[0];
    if (!pick) return null;
    matched.set(pick.id, c.label);
  }
  return matched;
}

/** `constraints_by_type.storage`: label → device ids (unlabelled constraints are not listed, as in MAAS). */
export function storageByLabel(matched: Map<number, string>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [id, label] of matched) if (label) (out[label] ??= []).push(id);
  return out;
}

/** Keys answerable from the interfaces table. */
const INTERFACE_KEYS = new Set(['id', 'name', 'type', 'hostname', 'link_speed']);
/** MAAS's per-interface networking keys metalflow matches (see allocation-network). */
export const INTERFACE_NETWORK_KEYS = [
  'space',
  'not_space',
  'fabric',
  'not_fabric',
  'subnet',
  'not_subnet',
  'subnet_cidr',
  'not_subnet_cidr',
  'vlan',
  'not_vlan',
  'vid',
  'not_vid',
  'ip',
  'mode',
  'tag',
  'not_tag',
] as const;
export type InterfaceNetworkKey = (typeof INTERFACE_NETWORK_KEYS)[number];
const NETWORK_KEYS = new Set<string>(INTERFACE_NETWORK_KEYS);
/** MAAS has fabric classes; metalflow's fabrics have none, so a class constraint could not be honoured. */
const UNSUPPORTED_KEYS = new Set(['fabric_class', 'not_fabric_class']);

/** MAAS's LabeledConstraintMap: `eth0:name=eth0,link_speed=10000;san:type=bond`, `0:space=dmz`. */
export function parseInterfaces(value: string | undefined): InterfaceConstraint[] {
  if (value === undefined || value.trim() === '') return [];
  const bad = (why: string) =>
    ValidationError.field('interfaces', `Malformed interfaces constraint "${value}": ${why}`);
  const seen = new Set<string>();
  return value.split(';').map((part, i) => {
    const [label, body] = part.includes(':')
      ? [part.slice(0, part.indexOf(':')).trim(), part.slice(part.indexOf(':') + 1)]
      : [String(i), part];
    if (!/^[a-zA-Z0-9_-]+$/.test(label)) throw bad(`bad label '${label}'.`);
    if (seen.has(label)) throw bad(`label '${label}' is given twice.`);
    seen.add(label);
    const c: InterfaceConstraint = { label, ids: [], names: [], types: [], hostnames: [], network: {} };
    for (const pair of body.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw bad(`'${pair}' is not key=value.`);
      const key = pair.slice(0, eq).trim();
      const v = pair.slice(eq + 1).trim();
      if (UNSUPPORTED_KEYS.has(key))
        throw ValidationError.field(
          'interfaces',
          `Interfaces constraint '${key}' is not supported: metalflow's fabrics have no class.`,
        );
      if (NETWORK_KEYS.has(key)) {
        if (v === '') throw bad(`'${key}' needs a value.`);
        (c.network[key as InterfaceNetworkKey] ??= []).push(v);
        continue;
      }
      if (!INTERFACE_KEYS.has(key))
        throw ValidationError.field('interfaces', `Unknown interfaces constraint: '${key}'.`);
      if (key === 'id' || key === 'link_speed') {
        if (!/^\d{1,9}$/.test(v)) throw bad(`${key} must be a number.`);
        if (key === 'id') c.ids.push(Number(v));
        else c.linkSpeed = Math.max(c.linkSpeed ?? 0, Number(v));
      } else if (key === 'name') c.names.push(v);
      else if (key === 'type') c.types.push(v);
      else c.hostnames.push(v);
    }
    return c;
  });
}
