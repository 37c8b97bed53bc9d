// MAAS's per-type interface parameters (forms/interface.py): bond and bridge options with their
// choices and defaults, and the MTU. Pure: the edits call these before writing anything.
import { ValidationError } from '../../errors';

export const BOND_MODES = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
] as const;
export const BOND_LACP_RATES = ['fast', 'slow'] as const;
export const BOND_XMIT_HASH_POLICIES = ['layer2', 'layer2+3', 'layer3+4', 'encap2+3', 'encap3+4'] as const;
export const BRIDGE_TYPES = ['standard', 'ovs'] as const;
/** What a deployed OS gets: the network config v1 metalflow renders has Linux bridges only. */
const DEPLOYABLE_BRIDGE_TYPES = ['standard'] as const;

/** MAAS's MTU bounds (the smallest IPv4 MTU Linux takes, the largest a frame length allows). */
export const MTU_MIN = 552;
export const MTU_MAX = 65_535;
/** Millisecond/second knobs: bounded so a typo cannot ask for a day-long delay. */
export const BOND_DELAY_MAX_MS = 1_000_000;
export const BRIDGE_FD_MAX_S = 1_000;

export const BOND_DEFAULTS = {
  bond_mode: 'active-backup',
  bond_miimon: 100,
  bond_downdelay: 0,
  bond_updelay: 0,
  bond_lacp_rate: 'slow',
  bond_xmit_hash_policy: 'layer2',
  bond_num_grat_arp: 1,
} as const;
export const BRIDGE_DEFAULTS = { bridge_type: 'standard', bridge_stp: false, bridge_fd: 15 } as const;

export interface BondParamsInput {
  bond_mode?: string;
  bond_miimon?: number;
  bond_downdelay?: number;
  bond_updelay?: number;
  bond_lacp_rate?: string;
  bond_xmit_hash_policy?: string;
  bond_num_grat_arp?: number;
}
export interface BridgeParamsInput {
  bridge_type?: string;
  bridge_stp?: boolean;
  bridge_fd?: number;
}
export type ParamsInput = BondParamsInput & BridgeParamsInput & { mtu?: number };

function choice(field: string, value: string | undefined, choices: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value))
    throw ValidationError.field(
      field,
      `Select a valid choice. ${value.slice(0, 64)} is not one of the available choices (${choices.join(', ')}).`,
    );
  return value;
}

function bounded(field: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max)
    throw ValidationError.field(field, `Ensure this value is between ${min} and ${max}.`);
  return value;
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function mtuParam(mtu: number | undefined): Record<string, unknown> {
  return defined({ mtu: bounded('mtu', mtu, MTU_MIN, MTU_MAX) });
}

/** A bond's params: what was given over what it had (or MAAS's defaults for a new bond). */
export function bondParams(
  input: ParamsInput,
  current: Record<string, unknown> = BOND_DEFAULTS,
): Record<string, unknown> {
  return {
    ...current,
    ...defined({
      bond_mode: choice('bond_mode', input.bond_mode, BOND_MODES),
      bond_miimon: bounded('bond_miimon', input.bond_miimon, 0, BOND_DELAY_MAX_MS),
      bond_downdelay: bounded('bond_downdelay', input.bond_downdelay, 0, BOND_DELAY_MAX_MS),
      bond_updelay: bounded('bond_updelay', input.bond_updelay, 0, BOND_DELAY_MAX_MS),
      bond_lacp_rate: choice('bond_lacp_rate', input.bond_lacp_rate, BOND_LACP_RATES),
      bond_xmit_hash_policy: choice('bond_xmit_hash_policy', input.bond_xmit_hash_policy, BOND_XMIT_HASH_POLICIES),
      bond_num_grat_arp: bounded('bond_num_grat_arp', input.bond_num_grat_arp, 0, 255),
    }),
    ...mtuParam(input.mtu),
  };
}

/** MAAS's bridge types, of which metalflow can deploy the standard (Linux) one only. */
function bridgeType(value: string | undefined): string | undefined {
  const type = choice('bridge_type', value, BRIDGE_TYPES);
  if (type !== undefined && !(DEPLOYABLE_BRIDGE_TYPES as readonly string[]).includes(type))
    throw ValidationError.field(
      'bridge_type',
      `Bridge type '${type}' is not supported: metalflow deploys standard (Linux) bridges only; Open vSwitch is not configured.`,
    );
  return type;
}

/** A bridge's params: what was given over what it had (or MAAS's defaults for a new bridge). */
export function bridgeParams(
  input: ParamsInput,
  current: Record<string, unknown> = BRIDGE_DEFAULTS,
): Record<string, unknown> {
  return {
    ...current,
    ...defined({
      bridge_type: bridgeType(input.bridge_type),
      bridge_stp: input.bridge_stp,
      bridge_fd: bounded('bridge_fd', input.bridge_fd, 0, BRIDGE_FD_MAX_S),
    }),
    ...mtuParam(input.mtu),
  };
}

const BOND_KEYS = Object.keys(BOND_DEFAULTS);
const BRIDGE_KEYS = Object.keys(BRIDGE_DEFAULTS);

/** A parameter that does not apply to this type of interface is a 400 naming it, not ignored. */
export function refuseForeignParams(type: string, input: ParamsInput): void {
  const given = Object.entries(input)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  const foreign = given.filter(
    (k) => (BOND_KEYS.includes(k) && type !== 'bond') || (BRIDGE_KEYS.includes(k) && type !== 'bridge'),
  );
  if (foreign[0]) throw ValidationError.field(foreign[0], `${foreign[0]} does not apply to a ${type} interface.`);
}
