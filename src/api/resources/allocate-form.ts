// MAAS's AcquireNodeForm (op=allocate) → the allocation's constraints, declared once: the same
// declaration parses the request and documents it in describe/.
import { ValidationError } from '../../region/errors';
import type { AllocateConstraints } from '../../region/services/allocation';
import { parseInterfaces, parseStorage } from '../../region/services/allocation-constraints';
import { field, form } from '../http';
import { NO_PODS } from './machine-filter-forms';

/** A non-negative number constraint: MAAS accepts decimals for cpu_count, cpu_speed and mem. */
function number(name: string, doc: string) {
  return {
    ...field.text(doc),
    type: 'Float' as const,
    read: (p: Parameters<ReturnType<typeof field.text>['read']>[0]) => {
      const value = p.string(name);
      if (value === undefined || value === '') return undefined;
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0)
        throw ValidationError.field(name, `Invalid ${name}: '${value}' is not a non-negative number.`);
      return n;
    },
  };
}

// MAAS's parse_legacy_tags: repeated fields, each comma- or space-separated.
const words = (values: string[]) => values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

export const allocateForm = form(
  {
    name: field.text('The hostname of the machine to allocate.'),
    system_id: field.text('The system_id of the machine to allocate.'),
    arch: field.list('Architecture (comma- or space-separated values allowed).'),
    cpu_count: number('cpu_count', 'The minimum number of CPUs.'),
    cpu_speed: number('cpu_speed', 'The minimum CPU speed in MHz.'),
    mem: number('mem', 'The minimum memory in MiB.'),
    tags: field.list('Tags the machine must have (comma- or space-separated).'),
    not_tags: field.list('Tags the machine must not have.'),
    zone: field.text('The zone the machine must be in.'),
    not_in_zone: field.list('Zones the machine must not be in.'),
    pool: field.text('The pool the machine must be in.'),
    not_in_pool: field.list('Pools the machine must not be in.'),
    storage: field.text("Storage constraints, MAAS's syntax: label:size(tag,...),..."),
    interfaces: field.text(
      "Interface constraints, MAAS's syntax label:key=value,...;... (keys: id, name, type, hostname, link_speed, space, not_space, fabric, not_fabric, subnet, not_subnet, subnet_cidr, not_subnet_cidr, vlan, not_vlan, vid, not_vid, ip, mode, tag, not_tag).",
    ),
    subnets: field.list('Subnets the machine must be attached to.'),
    not_subnets: field.list('Subnets the machine must not be attached to.'),
    fabrics: field.list('Fabrics the machine must be attached to.'),
    not_fabrics: field.list('Fabrics the machine must not be attached to.'),
    vlans: field.list('VLANs the machine must be attached to.'),
    not_vlans: field.list('VLANs the machine must not be attached to.'),
    spaces: field.list('Spaces (id or name) the machine must be attached to, every one.'),
    not_spaces: field.list('Spaces the machine must not be attached to.'),
    agent_name: field.text('An agent name recorded on the machine (Juju).'),
    comment: field.text('A comment for the event log.'),
    dry_run: field.bool('Find the machine without allocating it.'),
    verbose: field.bool('With dry_run: say which machines matched each constraint.'),
    // MAAS's options python-libmaas's allocate() sends when asked: a documented 400, not an unknown one.
    pod: field.unsupported(NO_PODS),
    not_pod: field.unsupported(NO_PODS),
    pod_type: field.unsupported(NO_PODS),
    not_pod_type: field.unsupported(NO_PODS),
    bridge_all: field.unsupported('the deployed network configuration has no bridges yet.', 'Boolean'),
    bridge_stp: field.unsupported('the deployed network configuration has no bridges yet.', 'Boolean'),
    bridge_fd: field.unsupported('the deployed network configuration has no bridges yet.'),
    given: field.requestValues(),
  },
  (v): AllocateConstraints => ({
    name: v.name,
    systemId: v.system_id,
    arch: words(v.arch),
    cpuCount: v.cpu_count,
    cpuSpeed: v.cpu_speed,
    mem: v.mem,
    tags: words(v.tags),
    notTags: words(v.not_tags),
    zone: v.zone,
    notInZone: words(v.not_in_zone),
    pool: v.pool,
    notInPool: words(v.not_in_pool),
    storage: parseStorage(v.storage),
    interfaces: parseInterfaces(v.interfaces),
    subnets: words(v.subnets),
    notSubnets: words(v.not_subnets),
    fabrics: words(v.fabrics),
    notFabrics: words(v.not_fabrics),
    vlans: words(v.vlans),
    notVlans: words(v.not_vlans),
    spaces: words(v.spaces),
    notSpaces: words(v.not_spaces),
    agentName: v.agent_name,
    comment: v.comment,
    dryRun: v.dry_run ?? false,
    verbose: v.verbose ?? false,
    given: v.given,
  }),
);
