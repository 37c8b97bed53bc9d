// TypeORM mappings onto the schema the migrations create (EntitySchema: no decorators, so the
// code runs under tsx/esbuild without emitDecoratorMetadata).
import { EntitySchema } from 'typeorm';
import type { MachineStatus } from '../../contracts/lifecycle';

export interface User {
  id: number;
  username: string;
  email: string;
  passwordHash: string;
  isSuperuser: boolean;
  created: Date;
}
export interface Zone {
  id: number;
  name: string;
  description: string;
  created: Date;
  updated: Date;
}
export interface ResourcePool {
  id: number;
  name: string;
  description: string;
  created: Date;
  updated: Date;
}
export interface Tag {
  id: number;
  name: string;
  definition: string;
  comment: string;
  kernelOpts: string;
}
export interface Rack {
  id: number;
  systemId: string;
  name: string;
  interfaces: unknown[];
  services: Record<string, { status: string; message: string }>;
  version: string;
  lastSeen: Date;
  created: Date;
}
export interface Interface {
  id: number;
  machineId: number;
  name: string;
  type: string;
  macAddress: string;
  enabled: boolean;
  linkSpeed: number;
  isBoot: boolean;
}
export interface BlockDevice {
  name: string;
  size: number;
  serial: string;
  model: string;
  path: string;
}
export interface Machine {
  id: number;
  systemId: string;
  hostname: string;
  description: string;
  domain: string;
  architecture: string;
  cpuCount: number;
  cpuSpeed: number;
  memory: number;
  storage: number;
  status: MachineStatus;
  previousStatus: MachineStatus;
  statusMessage: string;
  ownerId: number | null;
  locked: boolean;
  powerType: string;
  powerParameters: Record<string, string>;
  powerSecrets: string;
  powerState: string;
  /** When powerState was last known (migration 0048); null before. */
  powerStateAt?: Date | null;
  zoneId: number;
  poolId: number | null;
  rackId: number | null;
  workflowId: string | null;
  workflowType: string | null;
  /**
   * The token of the lifecycle start that last claimed the machine; kept when the claim is
   * released, so that start's workflow can tell it was released (beginTransition).
   */
  claimToken: string | null;
  /** The run chain of the lifecycle workflow that last claimed the machine (migration 0026). */
  workflowChain: string | null;
  bootPurpose: string;
  /** quick | full | secure | secure,quick while release erases the disks, else ''. */
  bootErase: string;
  osystem: string;
  distroSeries: string;
  /** MAAS's ephemeral_deploy: the deployed image runs from RAM (migration 0025). */
  ephemeralDeploy: boolean;
  hweKernel: string;
  userData: string;
  agentName: string;
  workloadAnnotations: Record<string, string>;
  hardwareInfo: Record<string, string>;
  blockDevices: BlockDevice[];
  commissioningPassed: boolean;
  enableSsh: boolean;
  /** Set by commission (migration 0014): its hardware report keeps the interfaces / block devices. */
  skipNetworking: boolean;
  skipStorage: boolean;
  /** Stable identity of a registered deployed host (see migration 0002); null otherwise. */
  hostId: string | null;
  /** Reserved for one user or one group (migration 0004): who allocates it; survives release. */
  reservedUserId: number | null;
  reservedGroupId: number | null;
  created: Date;
  updated: Date;
}
export interface ApiToken {
  id: number;
  userId: number | null;
  machineId: number | null;
  name: string;
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
  created: Date;
}
export interface SshKey {
  id: number;
  userId: number;
  key: string;
  created: Date;
}
export interface MachineEvent {
  id: string;
  /** Null once the machine is deleted (its event stays, with nodeSystemId / nodeHostname). */
  machineId: number | null;
  type: string;
  description: string;
  level: string;
  dedupeKey: string | null;
  created: Date;
  /** Set when the machine is deleted (migration 0012's trigger). */
  nodeSystemId: string | null;
  nodeHostname: string;
}

const id = { type: Number, primary: true, generated: 'increment' } as const;
const text = { type: String } as const;
const created = { type: 'timestamptz', createDate: true } as const;
const updated = { type: 'timestamptz', updateDate: true } as const;

export const UserEntity = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  columns: {
    id,
    username: text,
    email: text,
    passwordHash: { ...text, name: 'password_hash' },
    isSuperuser: { type: Boolean, name: 'is_superuser' },
    created,
  },
});

export const ZoneEntity = new EntitySchema<Zone>({
  name: 'Zone',
  tableName: 'zones',
  columns: { id, name: text, description: text, created, updated },
});

export const ResourcePoolEntity = new EntitySchema<ResourcePool>({
  name: 'ResourcePool',
  tableName: 'resource_pools',
  columns: { id, name: text, description: text, created, updated },
});

export const TagEntity = new EntitySchema<Tag>({
  name: 'Tag',
  tableName: 'tags',
  columns: { id, name: text, definition: text, comment: text, kernelOpts: { ...text, name: 'kernel_opts' } },
});

export const RackEntity = new EntitySchema<Rack>({
  name: 'Rack',
  tableName: 'racks',
  columns: {
    id,
    systemId: { ...text, name: 'system_id' },
    name: text,
    interfaces: { type: 'jsonb' },
    services: { type: 'jsonb' },
    version: text,
    lastSeen: { type: 'timestamptz', name: 'last_seen' },
    created,
  },
});

export const InterfaceEntity = new EntitySchema<Interface>({
  name: 'Interface',
  tableName: 'interfaces',
  columns: {
    id,
    machineId: { type: Number, name: 'machine_id' },
    name: text,
    type: text,
    macAddress: { type: 'macaddr', name: 'mac_address' },
    enabled: { type: Boolean },
    linkSpeed: { type: Number, name: 'link_speed' },
    isBoot: { type: Boolean, name: 'is_boot' },
  },
});

export const MachineEntity = new EntitySchema<Machine>({
  name: 'Machine',
  tableName: 'machines',
  columns: {
    id,
    systemId: { ...text, name: 'system_id' },
    hostname: text,
    description: text,
    domain: text,
    architecture: text,
    cpuCount: { type: Number, name: 'cpu_count' },
    cpuSpeed: { type: Number, name: 'cpu_speed' },
    memory: { type: Number },
    storage: { type: 'double precision' },
    status: { type: 'smallint' },
    previousStatus: { type: 'smallint', name: 'previous_status' },
    statusMessage: { ...text, name: 'status_message' },
    ownerId: { type: Number, name: 'owner_id', nullable: true },
    locked: { type: Boolean },
    powerType: { ...text, name: 'power_type' },
    powerParameters: { type: 'jsonb', name: 'power_parameters' },
    powerSecrets: { ...text, name: 'power_secrets' },
    powerState: { ...text, name: 'power_state' },
    powerStateAt: { type: 'timestamptz', name: 'power_state_at', nullable: true },
    zoneId: { type: Number, name: 'zone_id' },
    poolId: { type: Number, name: 'pool_id', nullable: true },
    rackId: { type: Number, name: 'rack_id', nullable: true },
    workflowId: { ...text, name: 'workflow_id', nullable: true },
    workflowType: { ...text, name: 'workflow_type', nullable: true },
    claimToken: { ...text, name: 'claim_token', nullable: true },
    workflowChain: { ...text, name: 'workflow_chain', nullable: true },
    bootPurpose: { ...text, name: 'boot_purpose' },
    bootErase: { ...text, name: 'boot_erase' },
    osystem: text,
    distroSeries: { ...text, name: 'distro_series' },
    ephemeralDeploy: { type: Boolean, name: 'ephemeral_deploy', default: false },
    hweKernel: { ...text, name: 'hwe_kernel' },
    userData: { ...text, name: 'user_data' },
    agentName: { ...text, name: 'agent_name' },
    workloadAnnotations: { type: 'jsonb', name: 'workload_annotations' },
    hardwareInfo: { type: 'jsonb', name: 'hardware_info' },
    blockDevices: { type: 'jsonb', name: 'block_devices' },
    commissioningPassed: { type: Boolean, name: 'commissioning_passed' },
    enableSsh: { type: Boolean, name: 'enable_ssh' },
    skipNetworking: { type: Boolean, name: 'skip_networking' },
    skipStorage: { type: Boolean, name: 'skip_storage' },
    hostId: { ...text, name: 'host_id', nullable: true },
    reservedUserId: { type: Number, name: 'reserved_user_id', nullable: true },
    reservedGroupId: { type: Number, name: 'reserved_group_id', nullable: true },
    created,
    updated,
  },
});

export const ApiTokenEntity = new EntitySchema<ApiToken>({
  name: 'ApiToken',
  tableName: 'api_tokens',
  columns: {
    id,
    userId: { type: Number, name: 'user_id', nullable: true },
    machineId: { type: Number, name: 'machine_id', nullable: true },
    name: text,
    consumerKey: { ...text, name: 'consumer_key' },
    tokenKey: { ...text, name: 'token_key' },
    tokenSecret: { ...text, name: 'token_secret' },
    created,
  },
});

export const SshKeyEntity = new EntitySchema<SshKey>({
  name: 'SshKey',
  tableName: 'ssh_keys',
  columns: { id, userId: { type: Number, name: 'user_id' }, key: text, created },
});

export const MachineEventEntity = new EntitySchema<MachineEvent>({
  name: 'MachineEvent',
  tableName: 'events',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    machineId: { type: Number, name: 'machine_id', nullable: true },
    type: text,
    description: text,
    level: text,
    dedupeKey: { ...text, name: 'dedupe_key', nullable: true },
    created,
    nodeSystemId: { ...text, name: 'node_system_id', nullable: true },
    nodeHostname: { ...text, name: 'node_hostname' },
  },
});

export const ENTITIES = [
  UserEntity,
  ZoneEntity,
  ResourcePoolEntity,
  TagEntity,
  RackEntity,
  InterfaceEntity,
  MachineEntity,
  ApiTokenEntity,
  SshKeyEntity,
  MachineEventEntity,
];
