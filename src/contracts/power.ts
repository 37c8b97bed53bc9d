// Power types and their parameters, with MAAS's names (API fields `power_parameters_<name>`).
// Shared by the region (validation; `secret` fields are sealed apart from the others) and the rack
// (drivers read their defaults).

export interface PowerField {
  name: string;
  label: string;
  required?: boolean;
  /** Stored encrypted at rest and shown only to admins. */
  secret?: boolean;
  choices?: readonly string[];
  default?: string;
  /** The value's own rule, checked on create and update: what is wrong with it, or undefined. */
  check?: (value: string) => string | undefined;
}

export interface PowerTypeSpec {
  name: string;
  description: string;
  queryable: boolean;
  fields: readonly PowerField[];
}

// --- Value rules (pure): the region checks values against them on create and update. ---

const DNS_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

function isIpv6(text: string): boolean {
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text)) return false;
  try {
    return new URL(`http://[${text}]/`).hostname !== '';
  } catch {
    return false;
  }
}

/** An IPv4 address (each part 0-255), a bare IPv6 address or a DNS name; all-digit names that are
 * not IPv4 (`10.0.0.999`, `10.0.0`) are refused rather than looked up. */
function isHost(text: string): boolean {
  if (/^[\d.]+$/.test(text)) {
    const parts = text.split('.');
    return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
  }
  return isIpv6(text) || DNS_NAME.test(text);
}

const isPort = (text: string): boolean => /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;

/** What the IPMI driver takes: "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
function checkBmcAddress(value: string): string | undefined {
  const text = value.trim();
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  const [host, port] = bracketed
    ? [bracketed[1] ?? '', bracketed[2]]
    : text.split(':').length === 2
      ? text.split(':')
      : [text, undefined];
  const hostOk = bracketed ? isIpv6(host!) : isHost(host!);
  if (hostOk && (port === undefined || isPort(port))) return undefined;
  return `Enter a valid IP address or hostname, optionally with :port (IPv6 as [address]:port): '${value}'.`;
}

/** An absolute http(s) URL with a valid host. */
function checkHttpUrl(value: string): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  const host = url?.hostname.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (url && (url.protocol === 'http:' || url.protocol === 'https:') && host !== '' && isHost(host)) return undefined;
  return `Enter a valid http:// or https:// URL: '${value}'.`;
}

/** Redfish, as MAAS: an http(s) URL, or an address without a scheme, which means https. */
function checkRedfishAddress(value: string): string | undefined {
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    return checkHttpUrl(text) && `Enter a valid IP address, hostname or http(s):// URL of the BMC: '${value}'.`;
  return checkBmcAddress(text) && `Enter a valid IP address, hostname or http(s):// URL of the BMC: '${value}'.`;
}

/** The webhook driver matches with JavaScript's RegExp (MAAS: Python's re.search). */
function checkRegex(value: string): string | undefined {
  try {
    new RegExp(value);
    return undefined;
  } catch (err) {
    return `Enter a valid regular expression: ${(err as Error).message}.`;
  }
}

const address: PowerField = { name: 'power_address', label: 'IP address', required: true, check: checkBmcAddress };
const user: PowerField = { name: 'power_user', label: 'Power user' };
const pass: PowerField = { name: 'power_pass', label: 'Power password', secret: true };

export const POWER_TYPES: Readonly<Record<string, PowerTypeSpec>> = {
  manual: { name: 'manual', description: 'Manual', queryable: false, fields: [] },
  ipmi: {
    name: 'ipmi',
    description: 'IPMI',
    queryable: true,
    fields: [
      { name: 'power_driver', label: 'Power driver', choices: ['LAN', 'LAN_2_0'], default: 'LAN_2_0' },
      { name: 'power_boot_type', label: 'Power boot type', choices: ['auto', 'legacy', 'efi'], default: 'auto' },
      address,
      user,
      pass,
      { name: 'k_g', label: 'K_g BMC key', secret: true },
      { name: 'cipher_suite_id', label: 'Cipher Suite ID', choices: ['17', '3', '8', '12'], default: '3' },
      {
        name: 'privilege_level',
        label: 'Privilege Level',
        choices: ['USER', 'OPERATOR', 'ADMIN'],
        default: 'OPERATOR',
      },
      { name: 'workaround_flags', label: 'Workaround flags' },
      { name: 'mac_address', label: 'Power MAC' },
    ],
  },
  redfish: {
    name: 'redfish',
    description: 'Redfish',
    queryable: true,
    fields: [
      { ...address, check: checkRedfishAddress },
      user,
      pass,
      { name: 'node_id', label: 'Node ID' },
      { name: 'power_verify_ssl', label: 'Verify SSL', choices: ['y', 'n'], default: 'n' },
    ],
  },
  webhook: {
    name: 'webhook',
    description: 'Webhook',
    queryable: true,
    fields: [
      { name: 'power_on_uri', label: 'URI to power on the node', required: true, check: checkHttpUrl },
      { name: 'power_off_uri', label: 'URI to power off the node', required: true, check: checkHttpUrl },
      { name: 'power_query_uri', label: 'URI to query the nodes power status', check: checkHttpUrl },
      {
        name: 'power_on_regex',
        label: 'Regex to confirm the node is on',
        default: 'status.*:.*running',
        check: checkRegex,
      },
      {
        name: 'power_off_regex',
        label: 'Regex to confirm the node is off',
        default: 'status.*:.*stopped',
        check: checkRegex,
      },
      user,
      pass,
      { name: 'power_token', label: 'Power token, will be used in place of power_user and power_pass', secret: true },
      {
        name: 'power_verify_ssl',
        label: 'Verify SSL connections with system CA certificates',
        choices: ['y', 'n'],
        default: 'n',
      },
    ],
  },
  // Simulated machines (src/rack/fake) for scale tests and benchmarks, beside the real drivers:
  // they live inside the rack process and talk to the metadata server over real HTTP.
  fake: {
    name: 'fake',
    description: 'Fake (simulated machine, for tests and benchmarks)',
    queryable: true,
    fields: [
      { name: 'fake_behaviour', label: 'Behaviour', choices: ['normal', 'silent', 'fail'], default: 'normal' },
      { name: 'fake_delay_ms', label: 'Delay between steps (ms)', default: '200' },
      { name: 'fake_cpu_count', label: 'CPU count', default: '4' },
      { name: 'fake_memory_mib', label: 'Memory (MiB)', default: '8192' },
      { name: 'fake_disk_bytes', label: 'Disk size (bytes)', default: '100000000000' },
    ],
  },
};

export const isPowerType = (name: string): boolean => Object.hasOwn(POWER_TYPES, name);
