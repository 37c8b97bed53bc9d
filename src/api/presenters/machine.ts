// Machine JSON with MAAS's field names and types. Admins see power parameters including secrets;
// everyone else sees none of them.
import { HARDWARE_LIMITS } from '../../contracts/hardware';
import { labelOf } from '../../contracts/lifecycle';
import type { OperationStep } from '../../contracts/workflows';
import type { MachineView } from '../../region/services/machine-queries';
import { isAdmin, type Principal } from '../../region/services/principal';
import { presentNodeDomain } from './domain';
import { interfaceAddresses, NO_TEST_RESULTS, presentBlockDevice, presentInterface } from './machine-parts';
import { presentMachineStorage } from './storage';
import { SCRIPT_STATUS_NAME } from './script-types';

export interface PresentOptions {
  temporalUiUrl: string | null;
  temporalNamespace: string;
}

/** The Temporal UI has no login and shows every machine's workflows: only admins get its links. */
export function presentOptionsFor(o: PresentOptions, caller: Principal | null | undefined): PresentOptions {
  return caller && isAdmin(caller) ? o : { ...o, temporalUiUrl: null };
}

const COMMISSIONING_STATUS = { pending: 0, passed: 2, none: -1 } as const;

export function presentMachine(v: MachineView, o: PresentOptions): Record<string, unknown> {
  const m = v.machine;
  const fqdn = `${m.hostname}.${m.domain}`;
  const interfaces = v.interfaces.map((i) => presentInterface(m.systemId, i, v.links?.get(i.id), v.nics?.get(i.id)));
  const bootIndex = v.interfaces.findIndex((i) => i.isBoot);
  const boot = interfaces[bootIndex >= 0 ? bootIndex : 0] ?? null;
  const blockdevices = m.blockDevices.map((d, idx) => presentBlockDevice(m.systemId, d, idx));
  // The storage model when commissioning filled it; machines commissioned before it existed show
  // the devices their last report listed, as before.
  const storage = v.storage?.devices.length ? presentMachineStorage(v.storage) : undefined;
  return {
    system_id: m.systemId,
    hostname: m.hostname,
    fqdn,
    domain: presentNodeDomain(m.domain, v.domain),
    description: m.description,
    node_type: 0,
    node_type_name: 'Machine',
    owner: v.owner,
    // metalflow's addition: who allocates this machine (a username or `group:<name>`); kept across release.
    reserved_for: v.reservedFor,
    owner_data: m.workloadAnnotations,
    workload_annotations: m.workloadAnnotations,
    locked: m.locked,
    architecture: m.architecture,
    min_hwe_kernel: '',
    hwe_kernel: m.hweKernel || null,
    osystem: m.osystem,
    distro_series: m.distroSeries,
    cpu_count: m.cpuCount,
    cpu_speed: m.cpuSpeed,
    memory: m.memory,
    storage: storage?.storage ?? m.storage,
    status: m.status,
    status_name: labelOf(m.status),
    status_message: m.statusMessage || null,
    status_action: '',
    // An ephemeral deployment has no disk to boot: it always netboots (MAAS).
    netboot: m.bootPurpose !== 'local' || m.ephemeralDeploy,
    power_type: m.powerType,
    power_state: m.powerState,
    tag_names: v.tags,
    // MAAS shows its links' addresses, and discovered (DHCP) ones where nothing is configured.
    ip_addresses: v.interfaces.flatMap((i) => interfaceAddresses(v.links?.get(i.id), v.nics?.get(i.id))),
    interface_set: interfaces,
    boot_interface: boot,
    blockdevice_set: storage?.blockdevice_set ?? blockdevices,
    physicalblockdevice_set: storage?.physicalblockdevice_set ?? blockdevices,
    virtualblockdevice_set: storage?.virtualblockdevice_set ?? [],
    boot_disk: storage ? storage.boot_disk : (blockdevices[0] ?? null),
    volume_groups: storage?.volume_groups ?? [],
    raids: storage?.raids ?? [],
    cache_sets: [],
    bcaches: [],
    special_filesystems: [],
    numanode_set: [{ index: 0, memory: m.memory, cores: coreIds(m.cpuCount), hugepages_set: [] }],
    disable_ipv4: false,
    address_ttl: null,
    default_gateways: { ipv4: { gateway_ip: null, link_id: null }, ipv6: { gateway_ip: null, link_id: null } },
    hardware_uuid: m.hardwareInfo.system_uuid || null,
    bios_boot_method: v.storage?.biosBootMethod || null,
    ephemeral_deploy: m.ephemeralDeploy,
    error_description: '',
    parent: null,
    is_dpu: false,
    enable_hw_sync: false,
    enable_kernel_crash_dump: false,
    last_sync: null,
    sync_interval: null,
    next_sync: null,
    current_commissioning_result_id: null,
    current_testing_result_id: null,
    current_installation_result_id: null,
    ...NO_TEST_RESULTS,
    ...testStatuses(v),
    zone: {
      id: v.zone.id,
      name: v.zone.name,
      description: v.zone.description,
      resource_uri: `/MAAS/api/2.0/zones/${encodeURIComponent(v.zone.name)}/`,
    },
    pool: v.pool
      ? {
          id: v.pool.id,
          name: v.pool.name,
          description: v.pool.description,
          resource_uri: `/MAAS/api/2.0/resourcepool/${v.pool.id}/`,
        }
      : null,
    hardware_info: {
      system_vendor: 'Unknown',
      system_product: 'Unknown',
      system_serial: 'Unknown',
      system_uuid: 'Unknown',
      cpu_model: 'Unknown',
      ...nonEmpty(m.hardwareInfo),
    },
    ...commissioningStatus(v),
    swap_size: null,
    virtualmachine_id: null,
    pod: null,
    current_workflow: m.workflowId ? presentWorkflow(m.workflowId, m.workflowType, o) : null,
    // Not a MAAS field: the running operation's step, on a single machine's read only.
    ...(v.operationStep !== undefined ? { operation_step: presentStep(v.operationStep) } : {}),
    rack_controller: v.rack ? { system_id: v.rack.systemId, name: v.rack.name } : null,
    resource_uri: `/MAAS/api/2.0/machines/${m.systemId}/`,
  };
}

/**
 * MAAS's commissioning_status from the machine's current commissioning results; a machine that
 * commissioned before script results were kept (or reported as deployed) shows Passed.
 */
function commissioningStatus(v: MachineView): Record<string, unknown> {
  const s = v.scriptStatuses?.commissioning ?? -1;
  if (s !== -1) return { commissioning_status: s, commissioning_status_name: SCRIPT_STATUS_NAME[s] };
  const passed = v.machine.commissioningPassed;
  return {
    commissioning_status: passed ? COMMISSIONING_STATUS.passed : COMMISSIONING_STATUS.none,
    commissioning_status_name: passed ? 'Passed' : 'None',
  };
}

/** MAAS's testing_status and per-hardware test statuses from its current testing results. */
function testStatuses(v: MachineView): Record<string, unknown> {
  const s = v.scriptStatuses;
  if (!s) return {};
  const fields: Array<[string, number]> = [
    ['testing', s.testing],
    ['cpu_test', s.cpu],
    ['memory_test', s.memory],
    ['storage_test', s.storage],
    ['network_test', s.network],
    ['other_test', s.other],
  ];
  return Object.fromEntries(
    fields.flatMap(([k, status]) => [
      [`${k}_status`, status],
      [`${k}_status_name`, status === -1 ? 'None' : SCRIPT_STATUS_NAME[status]],
    ]),
  );
}

function presentWorkflow(id: string, type: string | null, o: PresentOptions): Record<string, unknown> {
  return {
    workflow_id: id,
    workflow_type: type,
    temporal_ui_url: temporalWorkflowUrl(id, o),
  };
}

function presentStep(s: OperationStep | null): Record<string, unknown> | null {
  return s && { step: s.step, deadline: s.deadline, last_heard: s.lastHeardAt };
}

/** The workflow's page in the Temporal UI, when there is one. */
export function temporalWorkflowUrl(id: string, o: PresentOptions): string | null {
  return o.temporalUiUrl
    ? `${o.temporalUiUrl}/namespaces/${o.temporalNamespace}/workflows/${encodeURIComponent(id)}`
    : null;
}

/**
 * MAAS lists a NUMA node's core ids. A presenter must never allocate in proportion to a number a
 * machine reported (or an old row holds): at most HARDWARE_LIMITS.cpuCount ids, the most a report
 * may claim; a bad stored value (negative, fractional) gives none.
 */
function coreIds(cpuCount: number): number[] {
  const n = Number.isSafeInteger(cpuCount) && cpuCount > 0 ? Math.min(cpuCount, HARDWARE_LIMITS.cpuCount) : 0;
  return Array.from({ length: n }, (_, i) => i);
}

function nonEmpty(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== ''));
}
