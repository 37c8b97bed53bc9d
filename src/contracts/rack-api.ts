// The HTTP contract between a rack and the region (`/MAAS/rack/v1/...`). Racks authenticate with
// the region's shared secret (`Authorization: Bearer <secret>`), as MAAS racks do with theirs.
// Secrets (BMC passwords, machine tokens) travel here at the moment they are needed, never
// through workflow history.

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
}

/** GET machines/{system_id}/boot-config: what the machine's next netboot gets. */
export interface BootConfig {
  systemId: string;
  hostname: string;
  purpose: BootPurpose;
  macAddresses: string[];
  /** The metadata server and the machine's own OAuth credentials (on MAAS's kernel command line). */
  metadataUrl: string;
  credentials: { consumerKey: string; tokenKey: string; tokenSecret: string };
}

/** GET racks/{rack}/power-targets: the machines this rack polls (queryable power types only). */
export interface PowerTargets {
  systemIds: string[];
}
/** POST racks/{rack}/power-states: what the BMCs said, by system_id. */
export interface PowerStates {
  states: Record<string, 'on' | 'off' | 'unknown' | 'error'>;
}

export const rackPaths = {
  register: '/register',
  heartbeat: (rackSystemId: string) => `/racks/${rackSystemId}/heartbeat`,
  powerTargets: (rackSystemId: string) => `/racks/${rackSystemId}/power-targets`,
  powerStates: (rackSystemId: string) => `/racks/${rackSystemId}/power-states`,
  power: (systemId: string) => `/machines/${systemId}/power`,
  bootConfig: (systemId: string) => `/machines/${systemId}/boot-config`,
} as const;
