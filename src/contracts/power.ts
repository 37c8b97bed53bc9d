// Power types and their parameters, with MAAS's names (API fields `power_parameters_<name>`).
// Shared by the region (validation, encryption of secrets) and the rack (drivers).

export interface PowerField {
  name: string;
  label: string;
  required?: boolean;
  /** Stored encrypted at rest and shown only to admins. */
  secret?: boolean;
  choices?: readonly string[];
  default?: string;
}

export interface PowerTypeSpec {
  name: string;
  description: string;
  queryable: boolean;
  fields: readonly PowerField[];
}

const address: PowerField = { name: 'power_address', label: 'IP address', required: true };
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
      { name: 'privilege_level', label: 'Privilege Level', choices: ['USER', 'OPERATOR', 'ADMIN'], default: 'OPERATOR' },
      { name: 'workaround_flags', label: 'Workaround flags' },
      { name: 'mac_address', label: 'Power MAC' },
    ],
  },
  redfish: {
    name: 'redfish',
    description: 'Redfish',
    queryable: true,
    fields: [address, user, pass, { name: 'node_id', label: 'Node ID' }, { name: 'power_verify_ssl', label: 'Verify SSL', choices: ['y', 'n'], default: 'n' }],
  },
  webhook: {
    name: 'webhook',
    description: 'Webhook',
    queryable: true,
    fields: [
      { name: 'power_on_uri', label: 'URI to power on the node', required: true },
      { name: 'power_off_uri', label: 'URI to power off the node', required: true },
      { name: 'power_query_uri', label: 'URI to query the nodes power status' },
      { name: 'power_on_regex', label: 'Regex to confirm the node is on', default: 'status.*:.*running' },
      { name: 'power_off_regex', label: 'Regex to confirm the node is off', default: 'status.*:.*stopped' },
      user,
      pass,
      { name: 'power_token', label: 'Power token, will be used in place of power_user and power_pass', secret: true },
      { name: 'power_verify_ssl', label: 'Verify SSL connections with system CA certificates', choices: ['y', 'n'], default: 'n' },
    ],
  },
  // The stand-in for real hardware until the rack's boot and power issues land. Its "machines"
  // are simulated inside the rack process and talk to the metadata server over real HTTP.
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
