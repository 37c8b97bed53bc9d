// The region's services, composed once per process over one database and one workflow gateway.
import type { Log } from '../../contracts/log';
import type { DataSource } from 'typeorm';
import type { Deadlines } from '../../contracts/workflows';
import type { SecretBox } from '../secrets';
import { AccountService } from './accounts';
import { AllocationService } from './allocation';
import { BootConfigService } from './boot-config';
import { BootResourceService } from './boot-resources';
import { ConfigService } from './config';
import { ControllerService } from './controller-machines';
import { CredentialService } from './credentials';
import { EventQueries } from './event-queries';
import { GroupService } from './groups';
import { ListingLimiter, type ListingQueue } from './listing-limiter';
import { MachineActions } from './machine-actions';
import { MachineOperations } from './machine-operations';
import { MachineQueries } from './machine-queries';
import { MachineService } from './machine-service';
import { MetadataService } from './metadata';
import { NodeResultsService } from './node-results';
import { FabricService, VlanService } from './network/fabrics';
import { IpRangeService } from './network/ip-ranges';
import { RackDhcpService } from './network/rack-dhcp';
import { RackFailoverService } from './network/rack-failover';
import { ReservedIpService } from './network/reserved-ips';
import { DhcpSnippetService } from './network/dhcp-snippets';
import { SubnetUsageService } from './network/subnet-usage';
import { SubnetService } from './network/subnets';
import { PlacementService } from './placement';
import { PoolService } from './pools';
import { RackService } from './racks';
import { ReleaseService } from './release';
import { ReservationService } from './reservations';
import { TagService } from './tags';
import { UiSessionService } from './ui-sessions';
import { UserService } from './users';
import type { WorkflowGateway } from './workflow-gateway';
import { ZoneService } from './zones';
import { DeviceService } from './devices/devices';
import { DeviceInterfaceService } from './devices/device-interfaces';
import { NodeInterfaceService } from './devices/node-interfaces';
import { DomainService } from './domains';
import { DnsResourceService } from './dns/dns-resources';
import { DnsRecordService } from './dns/dns-records';
import { SpaceService } from './network/spaces';
import { StaticRouteService } from './network/static-routes';
import { StorageService } from './storage/storage-service';
import { MachineNetworkEditor } from './machine-network/machine-edit';
import { MachineInterfaceService } from './machine-network/machine-interfaces';
import { MachineLinkService } from './machine-network/machine-links';
import { MachineNetworkRestore } from './machine-network/restore';
import { MachineCounts } from './machine-counts';
import { MachineActionOffers } from './machine-action-offers';
import { MachineListQueries } from './machine-list';
import { ScriptResultService } from './scripts/script-results';
import { ScriptService } from './scripts/scripts';

/** Entity types the API presents; the API imports them from here, never from region/db. */
export type {
  ApiToken,
  BlockDevice,
  Interface,
  Machine,
  Rack,
  ResourcePool,
  SshKey,
  Tag,
  User,
  Zone,
} from '../db/entities';
export type { UiSession } from './ui-sessions';
export type { RegionController } from './controller-machines';

export interface RegionServices {
  db: DataSource;
  users: UserService;
  /** The web UI's login sessions. */
  uiSessions: UiSessionService;
  credentials: CredentialService;
  accounts: AccountService;
  zones: ZoneService;
  pools: PoolService;
  tags: TagService;
  events: EventQueries;
  machines: MachineService;
  queries: MachineQueries;
  actions: MachineActions;
  /** The API's machine operations: visibility, policy, then the work. */
  machineOps: MachineOperations;
  allocation: AllocationService;
  groups: GroupService;
  reservations: ReservationService;
  /** Release's rules (the release workflow's activities): what a machine gives back, where it goes. */
  release: ReleaseService;
  placement: PlacementService;
  metadata: MetadataService;
  racks: RackService;
  fabrics: FabricService;
  vlans: VlanService;
  subnets: SubnetService;
  ipRanges: IpRangeService;
  reservedIps: ReservedIpService;
  rackDhcp: RackDhcpService;
  /** MAAS's DHCP snippets (issue 22): validated at write, applied by the racks' DHCP servers. */
  dhcpSnippets: DhcpSnippetService;
  /** Controllers (racks, regions) as machines: registering, removing, listing the regions. */
  controllers: ControllerService;
  workflows: WorkflowGateway;
  secrets: SecretBox;
  bootResources: BootResourceService;
  /** The `maas` handler's settings (get_config/set_config) and the defaults they drive. */
  config: ConfigService;
  /** node-results/ and a machine's details: what commissioning reported. */
  nodeResults: NodeResultsService;
  /** What a machine's (or a MAC's) next netboot gets, with the metadata URL machines reach the region by. */
  bootConfig(metadataUrl: string): BootConfigService;
  /** Devices (Juju's containers): non-deployable nodes, usually with a parent machine. */
  devices: DeviceService;
  /** A device's interfaces and their links to subnets (static addresses, DHCP, link-up). */
  deviceInterfaces: DeviceInterfaceService;
  /** nodes/{system_id}/interfaces/: a device's (read and changed) or a machine's (read-only). */
  nodeInterfaces: NodeInterfaceService;
  spaces: SpaceService;
  domains: DomainService;
  staticRoutes: StaticRouteService;
  /** dnsresources/ (with the implicit records of machines and devices) and dnsresourcerecords/. */
  dnsResources: DnsResourceService;
  dnsRecords: DnsRecordService;
  /** A machine's storage: block devices, partitions, volume groups, RAIDs, layouts. */
  storage: StorageService;
  /** What a subnet's addresses are used for (subnets/{id}/'s ip_addresses, statistics, …_ip_ranges). */
  subnetUsage: SubnetUsageService;
  /** A machine's interfaces in MAAS's network model: bonds, bridges, VLANs, updates, tags. */
  machineInterfaces: MachineInterfaceService;
  /** A machine interface's links to subnets and the machine's default gateway. */
  machineLinks: MachineLinkService;
  /** restore_networking_configuration / restore_default_configuration. */
  machineNetworkRestore: MachineNetworkRestore;
  /** Which silent racks' task queues a live rack covers (docs/adr/0005-rack-failover.md). */
  rackFailover: RackFailoverService;
  /** Machines by status (the region's /metrics). */
  machineCounts: MachineCounts;
  /** Which actions the web UI offers a user on a machine (the policy's and the lifecycle's answer). */
  actionOffers: MachineActionOffers;
  /** The web UI's machine list: sort, free text, counts per status, live fields. */
  machineList: MachineListQueries;
  /** scripts/: MAAS's commissioning, testing and release scripts with their versions. */
  scripts: ScriptService;
  /** Script sets and results: the maas-scripts tar, op=signal's results, nodes/{id}/results/. */
  scriptResults: ScriptResultService;
}

export function createRegionServices(o: {
  db: DataSource;
  workflows: WorkflowGateway;
  secrets: SecretBox;
  nodeTimeoutMs?: number;
  bootRoot?: string;
  /** The pool machine listings read from (default: `db`), and how many one user may run at once (default: no limit). */
  /** The listing pool, how many listings one user runs at once, and how many may wait for a turn. */
  listing?: { db?: DataSource; perUser?: number; queue?: ListingQueue };
  /** How long a lifecycle request waits for its workflow's start before answering (default 150 ms). */
  startWaitMs?: number;
  /** The region's log: a workflow start that failed after its request answered is told here. */
  log?: Log;
}): RegionServices {
  const fabrics = new FabricService(o.db);
  const subnets = new SubnetService(o.db);
  const controllers = new ControllerService(o.db);
  const racks = new RackService(o.db, { fabrics, subnets }, controllers);
  const bootResources = new BootResourceService(o.bootRoot);
  // node_timeout (the `maas` config; METALFLOW_NODE_TIMEOUT_SECONDS is its default) is read at each
  // workflow start and passed in its parameters: running workflows keep the deadline they began with.
  const config = new ConfigService(o.db, bootResources, { nodeTimeoutMsFromEnv: o.nodeTimeoutMs });
  const deadlines = async (): Promise<Deadlines> => ({ nodeTimeoutMs: await config.nodeTimeoutMs() });
  const machines = new MachineService(o.db, o.secrets, racks);
  const queries = new MachineQueries(o.db, {
    db: o.listing?.db ?? o.db,
    limiter: o.listing?.perUser ? new ListingLimiter(o.listing.perUser, o.listing.queue) : undefined,
  });
  const storage = new StorageService(o.db, queries);
  const actions = new MachineActions(o.db, o.workflows, racks, deadlines, bootResources, config, o.startWaitMs, o.log);
  const reservations = new ReservationService(o.db);
  const vlans = new VlanService(o.db);
  const devices = new DeviceService(o.db);
  const dhcpSnippets = new DhcpSnippetService(o.db, subnets);
  const scriptResults = new ScriptResultService(o.db, queries);
  return {
    db: o.db,
    users: new UserService(o.db),
    uiSessions: new UiSessionService(o.db),
    credentials: new CredentialService(o.db),
    accounts: new AccountService(o.db),
    zones: new ZoneService(o.db),
    pools: new PoolService(o.db),
    tags: new TagService(o.db),
    events: new EventQueries(o.db),
    machines,
    queries,
    actions,
    machineOps: new MachineOperations(o.db, queries, machines, actions, reservations, o.workflows),
    allocation: new AllocationService(o.db),
    groups: new GroupService(o.db),
    reservations,
    release: new ReleaseService(o.db),
    placement: new PlacementService(o.db),
    metadata: new MetadataService(o.db, o.workflows, bootResources, storage, scriptResults),
    racks,
    fabrics,
    vlans,
    subnets,
    ipRanges: new IpRangeService(o.db, subnets),
    reservedIps: new ReservedIpService(o.db, subnets),
    rackDhcp: new RackDhcpService(o.db, dhcpSnippets),
    dhcpSnippets,
    controllers,
    workflows: o.workflows,
    secrets: o.secrets,
    bootResources,
    config,
    nodeResults: new NodeResultsService(o.db, queries),
    bootConfig: (metadataUrl) => new BootConfigService(o.db, machines, metadataUrl, bootResources),
    devices,
    deviceInterfaces: new DeviceInterfaceService(o.db, devices, subnets, vlans),
    nodeInterfaces: new NodeInterfaceService(devices, queries),
    spaces: new SpaceService(o.db),
    domains: new DomainService(o.db),
    staticRoutes: new StaticRouteService(o.db),
    dnsResources: new DnsResourceService(o.db),
    dnsRecords: new DnsRecordService(o.db),
    storage,
    subnetUsage: new SubnetUsageService(o.db, subnets),
    ...machineNetwork(o.db, queries, vlans, subnets),
    rackFailover: new RackFailoverService(o.db),
    // Read by the unauthenticated /MAAS/metrics: off the main pool when there is a listings pool.
    machineCounts: new MachineCounts(o.listing?.db ?? o.db),
    actionOffers: new MachineActionOffers(o.db),
    machineList: new MachineListQueries(o.listing?.db ?? o.db),
    scripts: new ScriptService(o.db),
    scriptResults,
  };
}

function machineNetwork(db: DataSource, queries: MachineQueries, vlans: VlanService, subnets: SubnetService) {
  const editor = new MachineNetworkEditor(db, queries);
  return {
    machineInterfaces: new MachineInterfaceService(editor, vlans),
    machineLinks: new MachineLinkService(editor, subnets),
    machineNetworkRestore: new MachineNetworkRestore(editor),
  };
}
