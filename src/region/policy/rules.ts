// Who may do what, read top to bottom per object. A rule answers from the principal and facts
// about the object alone (no I/O), so the whole policy is unit-tested without HTTP or a database;
// callers that need a fact from the database (does the caller administer this machine's pool?)
// look it up first and pass it in. "What may the caller see" stays in tenancy-sql (a listing's
// WHERE clause): a hidden object is a 404 before any rule here is asked, so 404 beats 403.
import type { Principal } from '../services/principal';

/** A denial carries the message the API answers 403 with; null allows. */
export type Decision = string | null;

const ADMIN_ONLY = 'You do not have permission to do this: admin only.';
export const MACHINE_TOKEN_DENIED = 'Machine credentials can only use the metadata API.';

const isUser = (p: Principal): p is Extract<Principal, { kind: 'user' }> => p.kind === 'user';
const isAdminUser = (p: Principal): boolean => isUser(p) && p.user.isSuperuser;

/** Machine tokens speak to the metadata server only; every API object starts with this. */
function apiUser(p: Principal): Decision {
  return isUser(p) ? null : MACHINE_TOKEN_DENIED;
}
function apiAdmin(p: Principal, message = ADMIN_ONLY): Decision {
  return apiUser(p) ?? (isAdminUser(p) ? null : message);
}

/**
 * Objects with the same rule for every instance: users read them (or act on their own, e.g. their
 * SSH keys, tokens, IP addresses), admins change them.
 */
export const COLLECTION_RULES = {
  zone: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  pool: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  tag: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** Reading the list or another user is for users; creating and deleting users for admins. */
  user: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** Group scoping (users read the groups they belong to) is the service's visibility rule. */
  group: { read: apiUser, 'read-all': apiAdmin, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  'placement-rule': { read: apiAdmin, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** One's own API tokens and SSH keys. */
  token: { read: apiUser, create: apiUser, update: apiUser, delete: apiUser },
  sshkey: { read: apiUser, create: apiUser, update: apiUser, delete: apiUser },
  event: { read: apiUser },
  network: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** IP ranges: users may reserve ranges (not dynamic ones; see ipRangeRule for changing one). */
  'ip-range': { read: apiUser, create: apiUser, update: apiUser, delete: apiUser },
  /** Reserving and releasing addresses on a subnet: one's own (the service checks a MAC's owner). */
  'ip-address': { read: apiUser, create: apiUser, update: apiUser, delete: apiUser, administer: apiAdmin },
  controller: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** Boot resources and sources: users read them; changing them is for admins (refused anyway: built locally). */
  'boot-resource': { read: apiUser, change: apiAdmin },
  /** DNS domains: users read them (machines name theirs), admins change them and pick the default. */
  domain: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** The machine collection: anyone lists (visibility filters), admins create, users allocate. */
  machine: {
    read: apiUser,
    create: (p: Principal) => apiAdmin(p, 'You do not have permission to create machines.'),
    allocate: apiUser,
    delete: apiAdmin,
    'read-power-parameters': apiAdmin,
    /** Moving nodes between zones in bulk (MAAS's set_zone): admins. */
    'set-zone': (p: Principal) => apiAdmin(p, 'This method is reserved for admin users.'),
  },
  /** Devices (Juju's containers): any user lists the ones they may see and creates their own. */
  device: { read: apiUser, create: apiUser, update: apiUser, delete: apiUser },
  /** The `maas` handler's settings: users read them, admins set them. */
  config: { read: apiUser, update: apiAdmin },
  /** DNS resources and their records: users read them, admins change them (MAAS's admin_method). */
  dns: { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
  /** Scripts: users read them; admins upload and change them (and delete machines' script results). */
  script: { read: apiUser, change: apiAdmin },
  /** DHCP snippets: users read them, admins change them (MAAS's admin_method). */
  'dhcp-snippet': { read: apiUser, create: apiAdmin, update: apiAdmin, delete: apiAdmin },
} satisfies Record<string, Record<string, (p: Principal) => Decision>>;

export type CollectionObject = keyof typeof COLLECTION_RULES;
export type CollectionVerb<O extends CollectionObject> = keyof (typeof COLLECTION_RULES)[O] & string;

/** Facts about one machine the rules need; `administersPool` is looked up by the caller. */
export interface MachineFacts {
  systemId: string;
  ownerId: number | null;
  /** Racks and regions are machines too, and stay admins-only. */
  controller: boolean;
  /** The caller is in a group holding `admin` on the machine's pool (MAAS 3.8's pool admins). */
  administersPool: boolean;
}

/**
 * Acting on one machine the caller can see. Admins may do everything; pool admins administer
 * their pools' machines whoever owns them (not controllers); the owner operates what they own.
 */
export const MACHINE_RULES = {
  /** Operations an owner performs on the machine they hold. */
  deploy: ownerOrPoolAdmin,
  release: ownerOrPoolAdmin,
  abort: ownerOrPoolAdmin,
  'mark-broken': ownerOrPoolAdmin,
  lock: ownerOrPoolAdmin,
  unlock: ownerOrPoolAdmin,
  power: ownerOrPoolAdmin,
  /** Operations that reshape the machine: not its owner's to decide. */
  commission: poolAdmin,
  /** MAAS's op=test (NodePermission.admin). */
  test: poolAdmin,
  'mark-fixed': poolAdmin,
  edit: poolAdmin,
  reserve: poolAdmin,
  /** Power settings hold BMC credentials: admins only, pool admins included not. */
  'edit-power': adminOnly('Only admins can change power settings.'),
  'read-power-parameters': adminOnly('Power parameters are shown to admins only.'),
  /** The machine's own token, and its workload annotations: the owner's and admins'. */
  'read-token': ownerOrAdmin('Only the owner or an admin can see or regenerate a machine token.'),
  annotate: ownerOrAdmin('Only the owner or an admin can annotate a machine.'),
  delete: adminOnly(ADMIN_ONLY),
  /** MAAS's storage edits (NodePermission.edit): formatting, mounting, partitioning what one holds. */
  'edit-storage': ownerOrPoolAdmin,
  /** MAAS's NodePermission.admin storage edits: layouts, volume groups, RAIDs, tags, the boot disk. */
  'configure-storage': poolAdmin,
  /** MAAS's NodePermission.admin interface edits: bonds, bridges, VLANs, links, restoring the network. */
  'configure-network': poolAdmin,
  /** MAAS's override_failed_testing (NodePermission.admin). */
  'override-failed-testing': poolAdmin,
} satisfies Record<string, (p: Principal, m: MachineFacts, what: string) => Decision>;

export type MachineVerb = keyof typeof MACHINE_RULES;

function denied(m: MachineFacts, what: string): string {
  return `You do not have permission to ${what} machine ${m.systemId}.`;
}
function owns(p: Principal, m: MachineFacts): boolean {
  return isUser(p) && m.ownerId === p.user.id;
}
function poolAdmin(p: Principal, m: MachineFacts, what: string): Decision {
  if (isAdminUser(p)) return null;
  return !m.controller && m.administersPool ? null : denied(m, what);
}
function ownerOrPoolAdmin(p: Principal, m: MachineFacts, what: string): Decision {
  return owns(p, m) ? null : poolAdmin(p, m, what);
}
function adminOnly(message: string) {
  return (p: Principal): Decision => apiUser(p) ?? (isAdminUser(p) ? null : message);
}
function ownerOrAdmin(message: string) {
  return (p: Principal, m: MachineFacts): Decision => (isAdminUser(p) || owns(p, m) ? null : message);
}

/** Facts about one IP range. */
export interface IpRangeFacts {
  userId: number | null;
  type: string;
}

/** Users change only their own reserved ranges, and may not make them dynamic; admins any. */
export function ipRangeRule(p: Principal, r: IpRangeFacts | null, newType?: string): Decision {
  const base = apiUser(p);
  if (base || isAdminUser(p)) return base;
  if (r === null) return newType === 'dynamic' ? 'Only administrators can create dynamic IP ranges.' : null;
  return isUser(p) && r.userId === p.user.id && r.type !== 'dynamic' && newType !== 'dynamic'
    ? null
    : 'Only administrators can change or delete this IP range.';
}

/**
 * Facts about one device. `ownerId` is the device's effective owner: its parent machine's owner
 * when it has a parent (Juju's containers belong to whoever holds the machine), else its creator.
 */
export interface DeviceFacts {
  systemId: string;
  ownerId: number | null;
}

/** Changing or deleting a device (its interfaces and addresses too): its owner and admins. */
export function deviceRule(p: Principal, d: DeviceFacts): Decision {
  const base = apiUser(p);
  if (base || isAdminUser(p) || owns(p, { ...d, controller: false, administersPool: false })) return base;
  return `You do not have permission to change device ${d.systemId}.`;
}
