// The HTTP contract between a rack and the region (`/MAAS/rack/v1/...`). Racks authenticate with
// the region's shared secret (`Authorization: Bearer <secret>`), as MAAS racks do with theirs.
// Secrets (BMC passwords, machine tokens) travel here at the moment they are needed, never
// through workflow history.

import type { EraseMode } from './boot';
import type { DhcpSnippetLayer } from './dhcp-snippets';
import type { BootPurpose } from './workflows';

export const RACK_API_PREFIX = '/MAAS/rack/v1';

export interface RackRegistration {
  name: string;
  version: string;
  interfaces: Array<{ name: string; mac: string; addresses: string[] }>;
}
export interface RackRegistered {
  systemId: string;
  taskQueue: string;
}

export type ServiceStatus = 'running' | 'degraded' | 'dead' | 'off';
export interface RackHeartbeat {
  services: Record<string, { status: ServiceStatus; message: string }>;
}

/** GET machines/{system_id}/power: what a power driver needs, secrets decrypted. */
export interface PowerConfig {
  systemId: string;
  powerType: string;
  parameters: Record<string, string>;
  /**
   * Whether power on/cycle sets next boot PXE. False for a machine with no known MAC that is not
   * commissioning: its netboot would come from a MAC nobody knows and enlist it as a new machine,
   * so it boots its default device (its installed OS) instead. False too for a machine whose next
   * boot is its installed OS (boot purpose `local`): its firmware's own order boots it. Absent: true.
   */
  netboot?: boolean;
}

/** GET machines/{system_id}/boot-config: what the machine's next netboot gets. */
export interface BootConfig {
  systemId: string;
  hostname: string;
  purpose: BootPurpose;
  macAddresses: string[];
  /** The metadata server and the machine's own OAuth credentials (on MAAS's kernel command line). */
  metadataUrl: string;
  /**
   * Only while the machine's status is a netboot phase that reports with them (commissioning,
   * deploying, disk erasing); absent otherwise, whatever the purpose. A rack hands them only to the
   * address its DHCP server leased to the booting MAC.
   */
  credentials?: MachineCredentials;
  /** xinstall: the image to write (path on the rack's HTTP boot server, under the boot root). */
  image?: { name: string; path: string; sha256: string };
  /** xinstall: run that image from RAM instead of writing it to disk (MAAS's ephemeral_deploy). */
  ephemeral?: boolean;
  /**
   * xinstall, ephemeral: the deployment is done (DEPLOYED) and this is the machine's reboot; the
   * environment runs the OS from RAM again and reports nothing (nothing waits for it).
   */
  deployed?: boolean;
  /** commissioning during release: erase the disks instead. */
  erase?: EraseMode;
}

export interface MachineCredentials {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

/** GET racks/{rack}/power-targets: the machines this rack polls (queryable power types only). */
export interface PowerTargets {
  systemIds: string[];
  /**
   * Each target's power type and parameters (secrets decrypted), by system_id: a round needs this
   * one request, not one per machine (1,000 machines every 15 s were 67 requests a second). For
   * queries only: `netboot` is left out (it matters to power on and cycle, which ask
   * machines/{system_id}/power). A target missing here (or a region that sends none) is asked
   * for its own.
   */
  configs?: Record<string, PowerConfig>;
}
/** POST racks/{rack}/power-states: what the BMCs said, by system_id. */
export interface PowerStates {
  states: Record<string, 'on' | 'off' | 'unknown' | 'error'>;
  /** Why a query failed (the BMC's words), for the machines reported as `error`. */
  errors?: Record<string, string>;
  /**
   * How long before this report the rack began the round (ms, its own clock): a state the region
   * learned since then is newer than these samples and stays. Absent from older racks.
   */
  ageMs?: number;
}

/** GET racks/{rack}/boot-config/{mac}: what a PXE request from this MAC gets (MAAS's pxeconfig). */
export type MacBootConfig =
  | ({ known: true } & BootConfig)
  /** A MAC the region has never seen: MAAS's enlistment path (anonymous, no token). */
  | { known: false; purpose: 'enlist'; mac: string; metadataUrl: string };

/** One subnet a rack serves DHCP on (its VLAN has dhcp_on and this rack is primary or secondary). */
export interface DhcpSubnetConfig {
  subnetId: number;
  cidr: string; // e.g. 10.77.0.0/24
  gatewayIp: string | null;
  dnsServers: string[];
  ntpServers: string[];
  domain: string;
  /** Dynamic ranges: the only addresses handed to unknown clients. */
  dynamicRanges: Array<{ start: string; end: string }>;
  /** Reserved ranges: never handed out. */
  reservedRanges: Array<{ start: string; end: string }>;
  /** Fixed addresses (MAAS's reserved IPs with a MAC, static machine addresses). */
  fixed: Array<{ mac: string; ip: string; hostname: string }>;
  /** Lease time for ordinary clients in seconds; PXE clients get a short one (see DHCP server). */
  leaseSeconds: number;
  /** The VLAN's MTU (option 26). */
  mtu?: number;
  /** Option 119: the domains clients search. */
  domainSearch?: string[];
  /** Option 121: routes to other subnets (MAAS's static routes from this subnet). */
  staticRoutes?: Array<{ destination: string; gateway: string }>;
  /** This subnet's enabled DHCP snippets, merged in id order. */
  snippets?: DhcpSnippetLayer;
}
export interface DhcpConfig {
  subnets: DhcpSubnetConfig[];
  /** Enabled global DHCP snippets, merged in id order (beneath what the subnet generates). */
  globalSnippets?: DhcpSnippetLayer;
  /** Enabled node snippets: each MAC of the node, with its snippets merged (the most specific). */
  hostSnippets?: Array<{ mac: string; snippets: DhcpSnippetLayer }>;
}

/** POST racks/{rack}/leases: what the rack's DHCP server did since its last report. */
export interface DhcpLeaseEvent {
  action: 'commit' | 'release' | 'expiry';
  ip: string;
  mac: string;
  hostname: string;
  /** ISO time the lease ends (commit); the time of the event otherwise. */
  at: string;
}
export interface DhcpLeaseReport {
  events: DhcpLeaseEvent[];
  /** The events are the rack's whole lease table: the region drops this rack's other leases. */
  replace?: boolean;
}

/**
 * A rack silent this long is dead to its VLAN partner: the secondary serves the VLAN's DHCP and
 * the partner polls its task queue (docs/adr/0005-rack-failover.md). Three missed heartbeats
 * (every 10 s) plus slack.
 */
export const RACK_FAILOVER_AFTER_S = 45;

/**
 * GET racks/{rack}/covered-queues: the task queues of silent racks this rack polls besides its own
 * (docs/adr/0005-rack-failover.md); empty while every partner rack is heard from.
 */
export interface CoveredQueues {
  queues: Array<{ rackSystemId: string; rackName: string; taskQueue: string }>;
}

/** The rack's boot servers (MAAS's rack HTTP port is 5248). */
export const RACK_HTTP_PORT = 5248;

export const rackPaths = {
  register: '/register',
  heartbeat: (rackSystemId: string) => `/racks/${rackSystemId}/heartbeat`,
  powerTargets: (rackSystemId: string) => `/racks/${rackSystemId}/power-targets`,
  powerStates: (rackSystemId: string) => `/racks/${rackSystemId}/power-states`,
  power: (systemId: string) => `/machines/${systemId}/power`,
  bootConfig: (systemId: string) => `/machines/${systemId}/boot-config`,
  bootConfigByMac: (rackSystemId: string, mac: string) =>
    `/racks/${rackSystemId}/boot-config/${encodeURIComponent(mac)}`,
  dhcpConfig: (rackSystemId: string) => `/racks/${rackSystemId}/dhcp-config`,
  leases: (rackSystemId: string) => `/racks/${rackSystemId}/leases`,
  coveredQueues: (rackSystemId: string) => `/racks/${rackSystemId}/covered-queues`,
} as const;
