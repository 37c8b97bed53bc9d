// machines read's (and nodes read's) filters → a MachineFilter, declared once: the same
// declaration parses the request and documents it in describe/, with MAAS's ReadNodesForm names
// and wording; the caps are the listing's own (services/machine-filter.ts).
import { statusFromName, type MachineStatus } from '../../contracts/lifecycle';
import { ValidationError } from '../../region/errors';
import {
  MACHINE_FILTER_CAPS,
  MACHINE_FILTER_NETWORK_CAP,
  normaliseFilter,
  type MachineFilter,
} from '../../region/services/machine-filter';
import { field, form } from '../http';

// The listing's own caps (MACHINE_FILTER_CAPS; some above Params' default of 100: Juju lists machines by id).
const filterList = (doc: string, cap: number) => field.list(doc, { maxValues: cap });
const C = MACHINE_FILTER_CAPS;
const networkList = (doc: string) => field.list(doc, { maxValues: MACHINE_FILTER_NETWORK_CAP });
/** MAAS's numeric filters take the smallest of the values given (`_match_gte`); each must be a number. */
function minimum(name: string, message: string, values: string[]): number | undefined {
  if (values.length === 0) return undefined;
  const numbers = values.map((v) => {
    const n = /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw ValidationError.field(name, message);
    return n;
  });
  return Math.min(...numbers);
}
const statusList = (name: string, values: string[]) =>
  values.map((value): MachineStatus => {
    const status = statusFromName(value);
    if (status === undefined) throw ValidationError.field(name, `'${value}' is not a valid status.`);
    return status;
  });
const POWER_STATES = new Set(['on', 'off', 'unknown', 'error']);
const powerStates = (name: string, values: string[]) =>
  values.map((value) => {
    if (!POWER_STATES.has(value))
      throw ValidationError.field(
        name,
        `Select a valid choice. ${value} is not one of the available choices (on, off, unknown, error).`,
      );
    return value;
  });
export const NO_PODS = 'metalflow has no pods (KVM hosts); no machine is in one.';
export const filterFields = {
  hostname: filterList('Only machines with this hostname.', C.hostname),
  not_hostname: filterList('Hostnames to leave out.', C.notHostname),
  id: filterList('Only the machine with this system_id.', C.systemId),
  system_id: filterList('Only the machine with this system_id (the same as id).', C.systemId),
  not_id: filterList('System ids to leave out.', C.notSystemId),
  mac_address: filterList('Only machines with this MAC address.', C.macAddress),
  domain: filterList('Only machines in this DNS domain.', C.domain),
  not_domain: filterList('DNS domains to leave out.', C.notDomain),
  agent_name: field.rawList(
    'Only machines with exactly this agent name (an empty value: machines without one). At most 100 values.',
  ),
  not_agent_name: field.rawList('Agent names to leave out (an empty value: machines without one). At most 100 values.'),
  zone: filterList('Only machines in this zone.', C.zone),
  not_in_zone: filterList('Zones to leave out.', C.notInZone),
  pool: filterList('Only machines in this pool.', C.pool),
  not_in_pool: filterList('Pools to leave out.', C.notInPool),
  status: filterList("Only machines in this status (MAAS's names, e.g. ready, deployed).", C.status),
  not_status: filterList('Statuses to leave out.', C.notStatus),
  owner: filterList('Only machines owned by this user.', C.owner),
  not_owner: filterList('Owners to leave out.', C.notOwner),
  tags: filterList('Only machines with this tag (every tag given).', C.tags),
  not_tags: filterList('Only machines without this tag.', C.notTags),
  arch: filterList('Only machines of this architecture.', C.arch),
  not_arch: filterList('Architectures to leave out.', C.notArch),
  power_state: filterList('Only machines in this power state (on, off, unknown, error).', C.powerState),
  not_power_state: filterList('Power states to leave out.', C.notPowerState),
  cpu_count: field.list('Only machines with at least this many CPUs (the smallest value given).'),
  mem: field.list('Only machines with at least this much memory in MiB (the smallest value given).'),
  cpu_speed: field.list('Only machines with CPUs at least this fast in MHz (the smallest value given).'),
  link_speed: field.list('Only machines with an interface at least this fast in Mbit/s (the smallest value given).'),
  fabrics: networkList('Only machines attached to this fabric (any of those given).'),
  not_fabrics: networkList('Only machines not attached to this fabric.'),
  vlans: networkList('Only machines attached to this VLAN (every one given).'),
  not_vlans: networkList('Only machines not attached to this VLAN.'),
  subnets: networkList('Only machines attached to this subnet (every one given).'),
  not_subnets: networkList('Only machines not attached to this subnet.'),
  pod: field.unsupported(NO_PODS),
  not_pod: field.unsupported(NO_PODS),
  pod_type: field.unsupported(NO_PODS),
  not_pod_type: field.unsupported(NO_PODS),
  simple_status: field.unsupported('filter by status instead.'),
  not_simple_status: field.unsupported('filter by not_status instead.'),
  deployment_target: field.unsupported('metalflow deploys to disk only.'),
  not_deployment_target: field.unsupported('metalflow deploys to disk only.'),
  fabric_classes: field.unsupported('fabrics have no class in metalflow.'),
  not_fabric_classes: field.unsupported('fabrics have no class in metalflow.'),
  interfaces: field.unsupported('interface constraints apply to allocate only.'),
  storage: field.unsupported('storage constraints apply to allocate only.'),
  devices: field.unsupported('metalflow does not record PCI/USB devices.'),
};

/** The capped raw values of a field that keeps empty values (agent_name=). */
function rawCapped(name: string, values: string[], cap: number): string[] {
  if (values.length > cap)
    throw ValidationError.field(name, `At most ${cap} values of ${name} may be given (got ${values.length}).`);
  return values;
}

type FilterValues = {
  [K in keyof typeof filterFields]: (typeof filterFields)[K] extends { read(...a: never[]): infer T } ? T : never;
};

/** The parsed filter fields as the listing's filter (also used by nodes/). */
export function buildFilter(v: FilterValues): MachineFilter {
  // Checked here, before any query runs: caps, MAC syntax, repeats dropped (a 400 names the field).
  return normaliseFilter({
    hostname: v.hostname,
    notHostname: v.not_hostname,
    systemId: [...v.id, ...v.system_id],
    notSystemId: v.not_id,
    macAddress: v.mac_address,
    domain: v.domain,
    notDomain: v.not_domain,
    agentName: rawCapped('agent_name', v.agent_name, C.agentName),
    notAgentName: rawCapped('not_agent_name', v.not_agent_name, C.notAgentName),
    zone: v.zone,
    notInZone: v.not_in_zone,
    pool: v.pool,
    notInPool: v.not_in_pool,
    status: statusList('status', v.status),
    notStatus: statusList('not_status', v.not_status),
    owner: v.owner,
    notOwner: v.not_owner,
    tags: v.tags,
    notTags: v.not_tags,
    arch: v.arch,
    notArch: v.not_arch,
    powerState: powerStates('power_state', v.power_state),
    notPowerState: powerStates('not_power_state', v.not_power_state),
    minCpuCount: minimum('cpu_count', 'Invalid CPU count: number required.', v.cpu_count),
    minMemory: minimum('mem', 'Invalid memory: number of MiB required.', v.mem),
    minCpuSpeed: minimum('cpu_speed', 'Invalid CPU speed: number required.', v.cpu_speed),
    minLinkSpeed: minimum('link_speed', 'Invalid link speed: number required.', v.link_speed),
    network: {
      fabrics: v.fabrics,
      notFabrics: v.not_fabrics,
      vlans: v.vlans,
      notVlans: v.not_vlans,
      subnets: v.subnets,
      notSubnets: v.not_subnets,
    },
  });
}

export const filterForm = form(filterFields, buildFilter);
