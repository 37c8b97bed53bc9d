import { ValidationError } from '../errors';

const MAC =
  /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/i;
const HOSTNAME_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
export const ARCHITECTURES = [
  'amd64/generic',
  'arm64/generic',
  'i386/generic',
  'armhf/generic',
  'ppc64el/generic',
  's390x/generic',
  'riscv64/generic',
];

/** `AA-BB-cc:dd...` → `aa:bb:cc:dd:ee:ff`, or undefined when it is no MAC address. */
export function normaliseMac(value: string): string | undefined {
  const m = MAC.exec(value.trim());
  return m ? m.slice(1, 7).join(':').toLowerCase() : undefined;
}

/** A machine's MAC addresses as a client may give them (issue 15: thousands were accepted). */
export const MAX_MACS_PER_MACHINE = 64;

export function validateMacs(values: string[], field = 'mac_addresses'): string[] {
  if (values.length > MAX_MACS_PER_MACHINE)
    throw ValidationError.field(
      field,
      `At most ${MAX_MACS_PER_MACHINE} MAC addresses per machine; ${values.length} were given.`,
    );
  const bad = values.filter((v) => !normaliseMac(v));
  if (bad.length) throw ValidationError.field(field, `'${bad[0]}' is not a valid MAC address.`);
  const macs = values.map((v) => normaliseMac(v)!);
  const dup = macs.find((m, i) => macs.indexOf(m) !== i);
  if (dup) throw ValidationError.field(field, `MAC address ${dup} is given twice.`);
  return macs;
}

// MAAS's domain NAMESPEC (dot-separated labels, an optional final dot, at most 255 characters),
// with DNS's 63-character label limit (MAAS's pattern lets 64 through).
const DOMAIN_NAME = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.?$/i;

/** As given, never trimmed: `web1\n` is refused, not quietly stored as `web1`. */
export function validateHostname(value: string): string {
  const name = value.toLowerCase();
  if (!HOSTNAME_LABEL.test(name)) {
    throw ValidationError.field(
      'hostname',
      `Invalid hostname: '${value}' must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen.`,
    );
  }
  return name;
}

/** A DNS name, as MAAS's validate_domain_name; stored lower-case without the final dot. */
export function validateDomain(value: string): string {
  if (value.length > 255 || !DOMAIN_NAME.test(value)) {
    throw ValidationError.field('domain', `Invalid domain name: ${value}.`);
  }
  return value.toLowerCase().replace(/\.$/, '');
}

/** MAAS accepts `amd64` for `amd64/generic`. */
export function validateArchitecture(value: string): string {
  const arch = value.includes('/') ? value : `${value}/generic`;
  if (!ARCHITECTURES.includes(arch)) {
    throw ValidationError.field(
      'architecture',
      `'${value}' is not a valid architecture. It should be one of: ${ARCHITECTURES.join(', ')}.`,
    );
  }
  return arch;
}

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'deft',
  'eager',
  'fair',
  'glad',
  'hardy',
  'keen',
  'lucid',
  'merry',
  'noble',
  'proud',
  'quick',
  'sunny',
  'tidy',
  'vivid',
  'witty',
];
const NOUNS = [
  'badger',
  'crane',
  'dingo',
  'egret',
  'ferret',
  'gecko',
  'heron',
  'ibis',
  'koala',
  'lemur',
  'moth',
  'newt',
  'otter',
  'panda',
  'quail',
  'raven',
  'stoat',
  'tapir',
];

/** A friendly name like MAAS's `adapting-moth`, with the system_id to keep it unique. */
export function generatedHostname(systemId: string): string {
  const n = [...systemId].reduce((a, c) => a + c.charCodeAt(0), 0);
  return `${ADJECTIVES[n % ADJECTIVES.length]}-${NOUNS[(n >> 2) % NOUNS.length]}-${systemId}`;
}
