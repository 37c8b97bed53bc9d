// The bounds of a machine listing's filter. Every value is checked before any query runs, repeats
// are dropped, and each field takes a documented number of values: the SQL (machine-queries)
// compares each field once, as an array, so its cost does not grow with a client's repetitions,
// and these caps keep the arrays themselves small.
import type { MachineStatus } from '../../contracts/lifecycle';
import { ValidationError } from '../errors';
import { normaliseMac } from './machine-validation';

export interface MachineFilter {
  hostname?: string[];
  systemId?: string[];
  macAddress?: string[];
  zone?: string[];
  pool?: string[];
  status?: MachineStatus[];
  owner?: string[];
  tags?: string[];
  arch?: string[];
  /** Hostnames containing this text, case-insensitively (the web UI's search). */
  hostnameContains?: string;
}

/** The API's parameter name of each filter field (what a 400 names). */
const FIELD_NAMES = {
  hostname: 'hostname',
  systemId: 'id',
  macAddress: 'mac_address',
  zone: 'zone',
  pool: 'pool',
  status: 'status',
  owner: 'owner',
  tags: 'tags',
  arch: 'arch',
} as const satisfies Record<Exclude<keyof MachineFilter, 'hostnameContains'>, string>;

type ListField = keyof typeof FIELD_NAMES;

/**
 * At most this many values per field (counted as given, repeats included). Ids, hostnames and
 * MACs name machines one by one (Juju asks for the machines of a model by id), so they get more.
 */
export const MACHINE_FILTER_CAPS: Readonly<Record<ListField, number>> = {
  hostname: 1000,
  systemId: 1000,
  macAddress: 1000,
  zone: 100,
  pool: 100,
  status: 50,
  owner: 100,
  tags: 100,
  arch: 50,
};

/** No name, tag or architecture metalflow stores is longer. */
export const MACHINE_FILTER_VALUE_MAX_LENGTH = 255;

/** The filter with every value checked and each field's repeats removed; a bad value is a 400 naming its field. */
export function normaliseFilter(filter: MachineFilter): MachineFilter {
  const out: MachineFilter = { ...filter };
  for (const key of Object.keys(FIELD_NAMES) as ListField[]) {
    const values = filter[key] as Array<string | number> | undefined;
    if (!values || values.length === 0) continue;
    const field = FIELD_NAMES[key];
    const cap = MACHINE_FILTER_CAPS[key];
    if (values.length > cap)
      throw ValidationError.field(field, `At most ${cap} values of ${field} may be given (got ${values.length}).`);
    const checked = values.map((v) => {
      if (typeof v !== 'string') return v;
      if (v.length > MACHINE_FILTER_VALUE_MAX_LENGTH)
        throw ValidationError.field(
          field,
          `Ensure each value of ${field} has at most ${MACHINE_FILTER_VALUE_MAX_LENGTH} characters (one has ${v.length}).`,
        );
      if (key !== 'macAddress') return v;
      const mac = normaliseMac(v);
      if (!mac) throw ValidationError.field(field, `'${v}' is not a valid MAC address.`);
      return mac;
    });
    (out as Record<ListField, unknown>)[key] = [...new Set(checked)];
  }
  if (filter.hostnameContains !== undefined && filter.hostnameContains.length > MACHINE_FILTER_VALUE_MAX_LENGTH)
    throw ValidationError.field(
      'hostname',
      `Ensure the search has at most ${MACHINE_FILTER_VALUE_MAX_LENGTH} characters.`,
    );
  return out;
}
