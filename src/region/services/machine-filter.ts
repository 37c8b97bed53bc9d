// The bounds of a machine listing's filter. Every value is checked before any query runs, repeats
// are dropped, and each field takes a documented number of values: the SQL (machine-queries)
// compares each field once, as an array, so its cost does not grow with a client's repetitions,
// and these caps keep the arrays themselves small.
import type { MachineStatus } from '../../contracts/lifecycle';
import type { NetworkConstraints } from './allocation-network';
import { ValidationError } from '../errors';
import { normaliseMac } from './machine-validation';

export interface MachineFilter {
  hostname?: string[];
  notHostname?: string[];
  systemId?: string[];
  notSystemId?: string[];
  macAddress?: string[];
  domain?: string[];
  notDomain?: string[];
  /** Exact names; an empty one matches machines without an agent name (MAAS's `agent_name=`). */
  agentName?: string[];
  notAgentName?: string[];
  zone?: string[];
  notInZone?: string[];
  pool?: string[];
  notInPool?: string[];
  status?: MachineStatus[];
  notStatus?: MachineStatus[];
  owner?: string[];
  notOwner?: string[];
  /** Every one of them (MAAS's AND). */
  tags?: string[];
  /** None of them. */
  notTags?: string[];
  arch?: string[];
  notArch?: string[];
  powerState?: string[];
  notPowerState?: string[];
  /** Network specifiers (see allocation-network): resolved to ids when the listing runs. */
  network?: Partial<NetworkConstraints>;
  /** At least this many CPUs / MiB / MHz, and an interface at least this fast (Mbit/s): MAAS takes the smallest given. */
  minCpuCount?: number;
  minMemory?: number;
  minCpuSpeed?: number;
  minLinkSpeed?: number;
  /** Hostnames containing this text, case-insensitively (the web UI's search). */
  hostnameContains?: string;
}

/** The API's parameter name of each filter field (what a 400 names). */
const FIELD_NAMES = {
  hostname: 'hostname',
  notHostname: 'not_hostname',
  systemId: 'id',
  notSystemId: 'not_id',
  macAddress: 'mac_address',
  domain: 'domain',
  notDomain: 'not_domain',
  agentName: 'agent_name',
  notAgentName: 'not_agent_name',
  zone: 'zone',
  notInZone: 'not_in_zone',
  pool: 'pool',
  notInPool: 'not_in_pool',
  status: 'status',
  notStatus: 'not_status',
  owner: 'owner',
  notOwner: 'not_owner',
  tags: 'tags',
  notTags: 'not_tags',
  arch: 'arch',
  notArch: 'not_arch',
  powerState: 'power_state',
  notPowerState: 'not_power_state',
} as const satisfies Record<
  Exclude<
    keyof MachineFilter,
    'hostnameContains' | 'network' | 'minCpuCount' | 'minMemory' | 'minCpuSpeed' | 'minLinkSpeed'
  >,
  string
>;

type ListField = keyof typeof FIELD_NAMES;

/**
 * At most this many values per field (counted as given, repeats included). Ids, hostnames and
 * MACs name machines one by one (Juju asks for the machines of a model by id), so they get more.
 */
export const MACHINE_FILTER_CAPS: Readonly<Record<ListField, number>> = {
  hostname: 1000,
  notHostname: 1000,
  systemId: 1000,
  notSystemId: 1000,
  macAddress: 1000,
  domain: 100,
  notDomain: 100,
  agentName: 100,
  notAgentName: 100,
  zone: 100,
  notInZone: 100,
  pool: 100,
  notInPool: 100,
  status: 50,
  notStatus: 50,
  owner: 100,
  notOwner: 100,
  tags: 100,
  notTags: 100,
  arch: 50,
  notArch: 50,
  powerState: 10,
  notPowerState: 10,
};

/** Network specifiers per field (each is one query when the listing resolves it). */
export const MACHINE_FILTER_NETWORK_CAP = 50;

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
  for (const [key, specs] of Object.entries(filter.network ?? {}) as Array<[string, string[]]>) {
    if (specs.length > MACHINE_FILTER_NETWORK_CAP)
      throw ValidationError.field(
        NETWORK_FIELD_NAMES[key] ?? key,
        `At most ${MACHINE_FILTER_NETWORK_CAP} values of ${NETWORK_FIELD_NAMES[key] ?? key} may be given (got ${specs.length}).`,
      );
  }
  if (filter.hostnameContains !== undefined && filter.hostnameContains.length > MACHINE_FILTER_VALUE_MAX_LENGTH)
    throw ValidationError.field(
      'hostname',
      `Ensure the search has at most ${MACHINE_FILTER_VALUE_MAX_LENGTH} characters.`,
    );
  return out;
}

const NETWORK_FIELD_NAMES: Record<string, string> = {
  subnets: 'subnets',
  notSubnets: 'not_subnets',
  fabrics: 'fabrics',
  notFabrics: 'not_fabrics',
  vlans: 'vlans',
  notVlans: 'not_vlans',
};
