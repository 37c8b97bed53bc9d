// MAAS's rules for DNS resource names and records (maasserver/models/dnsresource.py, dnsdata.py),
// pure so they are unit-tested without a database. Messages are MAAS's.
import { ValidationError } from '../../errors';

const LABEL = '[a-zA-Z0-9]([-a-zA-Z0-9]{0,62}[a-zA-Z0-9])?';
const SRV_LABEL = '_[a-zA-Z0-9]([-a-zA-Z0-9]{0,62}[a-zA-Z0-9])?';
/** An SRV record's name is _service._proto[.label]; any other name is one label. */
const SRV_LHS = `${SRV_LABEL}\\.${SRV_LABEL}(\\.${LABEL})?`;
const CNAME_LABEL = '[_a-zA-Z0-9]([-_a-zA-Z0-9]{0,62}[_a-zA-Z0-9])?';
const CNAME_SPEC = new RegExp(`^(${CNAME_LABEL}\\.)*${CNAME_LABEL}\\.?$`);
const DOMAIN_NAME = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.?$/i;
/** Names MAAS lets any record type have: the zone apex and the wildcard. */
const SPECIAL_NAMES = new Set(['', '@', '*']);

/** The types DNSData holds; A and AAAA come from a DNS resource's ip_addresses (MAAS's split). */
export const SUPPORTED_RRTYPES = ['CNAME', 'MX', 'NS', 'SRV', 'SSHFP', 'TXT'] as const;
export type RrType = (typeof SUPPORTED_RRTYPES)[number];

/** MAAS's DEFAULT_DNS_TTL: a record's TTL when neither it nor its domain has one. */
export const DEFAULT_DNS_TTL = 30;
/** A TTL fits PostgreSQL's integer and MAAS's form (0 .. 2^31-1). */
export const TTL_FIELD_MAX = 2 ** 31 - 1;
/** rrdata longer than this is refused: TXT is free-form, and nothing here needs more. */
export const RRDATA_MAX = 4096;

export const INVALID_CNAME_MSG = "Invalid CNAME: Should be '<server>'.";
export const INVALID_MX_MSG = "Invalid MX: Should be '<preference> <server>'. Range for preference is 0-65535.";
export const INVALID_SRV_MSG =
  "Invalid SRV: Should be '<priority> <weight> <port> <server>'. Range for priority, weight, and port are 0-65536.";
export const INVALID_SSHFP_MSG = "Invalid SSHFP: Should be '<algorithm> <fptype> <fingerprint>'.";
export const CNAME_AND_OTHER_MSG = 'CNAME records for a name cannot coexist with non-CNAME records.';
export const MULTI_CNAME_MSG = 'Only one CNAME can be associated with a name.';
export const CNAME_PRESENT_MSG = 'Cannot add address: CNAME present.';

/** MAAS's validate_dnsresource_name: one label, or _service._proto[.label] for SRV. */
export function validateResourceName(name: string, rrtype: string | undefined): void {
  if (SPECIAL_NAMES.has(name)) return;
  const spec = rrtype === 'SRV' ? SRV_LHS : LABEL;
  if (!new RegExp(`^${spec}$`).test(name)) throw ValidationError.field('name', `Invalid dnsresource name: ${name}.`);
}

/** MAAS's validate_rrtype, upper-casing as it does. */
export function validateRrtype(value: string): RrType {
  const upper = value.toUpperCase();
  if (!(SUPPORTED_RRTYPES as readonly string[]).includes(upper)) {
    const hint = upper === 'A' || upper === 'AAAA' ? " (addresses are a DNS resource's ip_addresses)" : '';
    throw ValidationError.field('rrtype', `${upper} is not one of ${SUPPORTED_RRTYPES.join(' ')}.${hint}`);
  }
  return upper as RrType;
}

/** MAAS's DNSData.clean_rrdata: the right-hand side matches its type. */
export function validateRrdata(rrtype: RrType, rrdata: string): void {
  const fail = (message: string) => {
    throw ValidationError.field('rrdata', message);
  };
  if (rrdata.trim() === '') fail('This field cannot be blank.');
  if (rrdata.length > RRDATA_MAX) fail(`Ensure this value has at most ${RRDATA_MAX} characters.`);
  switch (rrtype) {
    case 'CNAME':
      if (!CNAME_SPEC.test(rrdata)) fail(INVALID_CNAME_MSG);
      return;
    case 'SSHFP':
      if (!/^[0-9]+\s+[0-9]+\s+\S.*$/.test(rrdata)) fail(INVALID_SSHFP_MSG);
      return;
    case 'TXT':
      return;
    case 'MX': {
      const m = /^([0-9]+)\s+(.+)$/.exec(rrdata);
      if (!m || Number(m[1]) > 65535) return fail(INVALID_MX_MSG);
      checkHost(m[2]!);
      return;
    }
    case 'NS':
      checkHost(rrdata);
      return;
    case 'SRV': {
      const m = /^([0-9]+)\s+([0-9]+)\s+([0-9]+)\s+(\S+)$/.exec(rrdata);
      if (!m || [m[1], m[2], m[3]].some((n) => Number(n) > 65535)) return fail(INVALID_SRV_MSG);
      // "." says the service is decidedly not available at this domain.
      if (m[4] !== '.') checkHost(m[4]!);
      return;
    }
  }
}

/** MAAS's validate_domain_name, on a record's target host. */
function checkHost(host: string): void {
  if (host.length > 255 || !DOMAIN_NAME.test(host))
    throw ValidationError.field('rrdata', `Invalid domain name: ${host}.`);
}

/**
 * MAAS's separate_fqdn: the apex `@` when the whole fqdn is a domain (`isDomain`), else `name.domain`
 * split after the first label. For SRV the name is `_service._proto` with an optional third label,
 * so both splits are returned, MAAS's (the longer name) first: the caller takes the first whose
 * domain exists. Empty when the fqdn has no such shape.
 */
export function separateFqdn(
  fqdn: string,
  rrtype: string | undefined,
  isDomain: boolean,
): Array<{ name: string; domain: string }> {
  const clean = normaliseFqdn(fqdn);
  if (isDomain) return [{ name: '@', domain: clean }];
  const specs = rrtype === 'SRV' ? [SRV_LHS, `${SRV_LABEL}\\.${SRV_LABEL}`] : [LABEL];
  return specs.flatMap((spec) => {
    const m = new RegExp(`^(${spec})\\.(.+)$`).exec(clean);
    const domain = m?.[m.length - 1];
    return m && domain && DOMAIN_NAME.test(domain) ? [{ name: m[1]!, domain }] : [];
  });
}

export const normaliseFqdn = (fqdn: string) => fqdn.toLowerCase().replace(/\.$/, '');

/** The fqdn MAAS shows: the domain itself for the apex. */
export function fqdnOf(name: string, domain: string): string {
  return name === '@' ? domain : `${name}.${domain}`;
}
