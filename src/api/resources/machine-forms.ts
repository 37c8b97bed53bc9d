// Request parameters of the machine endpoints → typed service inputs. Validation errors name the
// field, as MAAS's forms do.
import { statusFromName, type MachineStatus } from '../../contracts/lifecycle';
import { ValidationError } from '../../region/errors';
import type { AllocateConstraints } from '../../region/services/allocation';
import { parseInterfaces, parseStorage } from '../../region/services/allocation-constraints';
import type {
  DeployOptions as DeployCommand,
  ReleaseOptions as ReleaseCommand,
} from '../../region/services/machine-actions';
import { MACHINE_FILTER_CAPS, normaliseFilter, type MachineFilter } from '../../region/services/machine-filter';
import { powerParametersFromForm } from '../../region/services/power-parameters';
import type { CreateMachineInput, UpdateMachineInput } from '../../region/services/machine-service';
import type { Params } from '../http';

/**
 * MAAS takes power parameters two ways: `power_parameters` as a JSON object (python-libmaas sends
 * this) and `power_parameters_<name>` fields, which win.
 */
function powerParameters(p: Params): Record<string, string> {
  const fromJson: Record<string, string> = {};
  const json = p.get('power_parameters');
  if (json !== undefined && json !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw ValidationError.field('power_parameters', 'Failed to parse JSON power_parameters.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw ValidationError.field('power_parameters', 'power_parameters must be a JSON object.');
    }
    for (const [k, v] of Object.entries(parsed)) fromJson[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const fields = powerParametersFromForm(
    p.names().flatMap((n) =>
      p
        .getAll(n)
        .slice(-1)
        .map((v): [string, string] => [n, v]),
    ),
  );
  return { ...fromJson, ...fields };
}

export function createForm(p: Params, ownerId: number | null): CreateMachineInput & { commission: boolean } {
  return {
    hostname: p.string('hostname', { maxLength: 63 }),
    architecture: p.string('architecture'),
    macAddresses: p.list('mac_addresses'),
    description: p.string('description', { maxLength: 10_000 }),
    powerType: p.string('power_type'),
    powerParameters: powerParameters(p),
    zone: p.string('zone'),
    pool: p.string('pool'),
    domain: p.string('domain'),
    deployed: p.bool('deployed') ?? false,
    // metalflow's addition for deployed=true: the host's stable identity (maas-run-scripts sends it).
    hostId: p.string('host_id', { maxLength: 128 }),
    commission: p.bool('commission') ?? true,
    ownerId,
  };
}

export function updateForm(p: Params): UpdateMachineInput {
  return {
    hostname: p.string('hostname', { maxLength: 63 }),
    architecture: p.string('architecture'),
    description: p.string('description', { maxLength: 10_000 }),
    powerType: p.string('power_type'),
    powerParameters: powerParameters(p),
    zone: p.string('zone'),
    pool: p.string('pool'),
    cpuCount: p.int('cpu_count', { min: 0, max: 100_000 }),
    memory: p.int('memory', { min: 0, max: 1 << 30 }),
  };
}

export function filterForm(p: Params): MachineFilter {
  // The listing's own caps (some above Params' default of 100: clients list machines by many ids).
  const list = (name: string, field: keyof typeof MACHINE_FILTER_CAPS) =>
    p.list(name, { maxValues: MACHINE_FILTER_CAPS[field] });
  const statuses = list('status', 'status').map((name): MachineStatus => {
    const status = statusFromName(name);
    if (status === undefined) throw ValidationError.field('status', `'${name}' is not a valid status.`);
    return status;
  });
  // Checked here, before any query runs: caps, MAC syntax, repeats dropped (a 400 names the field).
  return normaliseFilter({
    hostname: list('hostname', 'hostname'),
    systemId: list('id', 'systemId'),
    macAddress: list('mac_address', 'macAddress'),
    zone: list('zone', 'zone'),
    pool: list('pool', 'pool'),
    status: statuses,
    owner: list('owner', 'owner'),
    tags: list('tags', 'tags'),
    arch: list('arch', 'arch'),
  });
}

export function allocateForm(p: Params): AllocateConstraints {
  const number = (field: string) => {
    const value = p.string(field);
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw ValidationError.field(field, `Invalid ${field}: '${value}' is not a non-negative number.`);
    return n;
  };
  // MAAS's parse_legacy_tags: repeated fields, each comma- or space-separated.
  const list = (name: string) =>
    p
      .list(name)
      .flatMap((v) => v.split(/[\s,]+/))
      .filter(Boolean);
  return {
    name: p.string('name'),
    systemId: p.string('system_id'),
    arch: list('arch'),
    cpuCount: number('cpu_count'),
    cpuSpeed: number('cpu_speed'),
    mem: number('mem'),
    tags: list('tags'),
    notTags: list('not_tags'),
    zone: p.string('zone'),
    notInZone: list('not_in_zone'),
    pool: p.string('pool'),
    notInPool: list('not_in_pool'),
    storage: parseStorage(p.string('storage')),
    interfaces: parseInterfaces(p.string('interfaces')),
    subnets: list('subnets'),
    notSubnets: list('not_subnets'),
    fabrics: list('fabrics'),
    notFabrics: list('not_fabrics'),
    vlans: list('vlans'),
    notVlans: list('not_vlans'),
    agentName: p.string('agent_name'),
    comment: p.string('comment'),
    dryRun: p.bool('dry_run') ?? false,
    verbose: p.bool('verbose') ?? false,
  };
}

/** A parameter MAAS has that metalflow cannot honour yet: 400 naming it, rather than ignoring it. */
const unsupported = (field: string, why: string) =>
  ValidationError.field(field, `${field} is not supported yet: ${why}`);

/** Commissioning takes no options; this refuses the ones it cannot honour. */
export function checkCommissionForm(p: Params): void {
  if (p.bool('enable_ssh'))
    throw unsupported('enable_ssh', 'the machine is powered off once commissioning finishes, so it cannot be reached.');
  // Checked as booleans, then nothing to carry: metalflow's commissioning never reconfigures the
  // BMC, the networking or the storage, which is what these ask to skip (MAAS's default is to).
  p.bool('skip_bmc_config');
  p.bool('skip_networking');
  p.bool('skip_storage');
}

export function deployForm(p: Params): DeployCommand {
  const userData = p.string('user_data') ?? '';
  if (userData && !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(userData)) {
    throw ValidationError.field('user_data', 'user_data must be base64-encoded.');
  }
  // Empty: the region's default boot resource (see MachineActions.deploy).
  const series = p.string('distro_series') ?? '';
  if (series && !/^[a-z0-9][a-z0-9./-]{0,63}$/i.test(series))
    throw ValidationError.field('distro_series', `'${series}' is not a valid distro series.`);
  if (p.string('hwe_kernel')) throw unsupported('hwe_kernel', "the image's own kernel is installed.");
  if (p.bool('ephemeral_deploy'))
    throw unsupported('ephemeral_deploy', 'deployment always installs the image to disk.');
  return {
    distroSeries: series,
    userData,
    agentName: p.string('agent_name') ?? '',
    comment: p.string('comment') ?? '',
  };
}

export function releaseForm(p: Params): ReleaseCommand {
  // MAAS's force also deletes a KVM host's virtual machines; metalflow has no KVM hosts, so a
  // forced release is a release (checked as a boolean, nothing to carry).
  p.bool('force');
  return {
    erase: p.bool('erase') ?? false,
    secureErase: p.bool('secure_erase') ?? false,
    quickErase: p.bool('quick_erase') ?? false,
    comment: p.string('comment') ?? '',
  };
}
