// MAAS's ipmi power parameters → an ipmitool command line, and ipmitool's words → PowerError.
// Kept pure so both can be checked without a BMC.
import { PowerError } from './driver';

/** MAAS says ADMIN, ipmitool says ADMINISTRATOR. */
const PRIVILEGE: Readonly<Record<string, string>> = { USER: 'USER', OPERATOR: 'OPERATOR', ADMIN: 'ADMINISTRATOR' };

/**
 * MAAS's workaround_flags are freeipmi's (-W). ipmitool has OEM modes (-o) for two of them; the
 * rest have no ipmitool equivalent (opensesspriv, MAAS's default, is how ipmitool behaves anyway).
 */
const OEM_FOR_WORKAROUND: Readonly<Record<string, string>> = { intel20: 'intelplus', supermicro20: 'supermicro' };

/** "host", "host:port", "[v6]" or "[v6]:port"; a bare IPv6 address has more than one colon. */
export function splitAddress(address: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed?.[1]) return bracketed[2] ? { host: bracketed[1], port: bracketed[2] } : { host: bracketed[1] };
  const parts = address.split(':');
  if (parts.length === 2 && parts[0] && /^\d+$/.test(parts[1] ?? '')) return { host: parts[0], port: parts[1] };
  return { host: address };
}

export function ipmitoolArgs(
  p: Readonly<Record<string, string>>,
  command: readonly string[],
  retransmit: { intervalS: number; retries: number },
): { args: string[]; env: Record<string, string> } {
  const address = p.power_address?.trim();
  if (!address) throw PowerError.fatal('ipmi: power_address is not set.');
  const { host, port } = splitAddress(address);
  const lan15 = p.power_driver === 'LAN';
  const cipher = p.cipher_suite_id || '3';
  if (!/^\d{1,2}$/.test(cipher)) throw PowerError.fatal(`ipmi: invalid cipher_suite_id '${cipher}'.`);
  const privilege = PRIVILEGE[(p.privilege_level || 'OPERATOR').toUpperCase()];
  if (!privilege)
    throw PowerError.fatal(`ipmi: invalid privilege_level '${p.privilege_level}' (USER, OPERATOR or ADMIN).`);

  // -E: IPMI_PASSWORD is always set, even empty: unset, ipmitool would prompt on a terminal.
  const env: Record<string, string> = { IPMI_PASSWORD: p.power_pass ?? '' };
  const args = ['-I', lan15 ? 'lan' : 'lanplus'];
  // -C only exists for lanplus; without it ipmitool asks the BMC for its suites, slowly.
  if (!lan15) args.push('-C', cipher);
  args.push('-L', privilege, '-H', host);
  if (port) args.push('-p', port);
  if (p.power_user) args.push('-U', p.power_user);
  args.push('-E');
  if (p.k_g) args.push(...kgArgs(p.k_g, env));
  for (const flag of (p.workaround_flags ?? '').split(/[\s,]+/)) {
    const oem = OEM_FOR_WORKAROUND[flag];
    if (oem) args.push('-o', oem);
  }
  // -v makes ipmitool say *why* a session failed (RAKP 2 HMAC invalid = wrong password); without
  // it, a wrong password and a dead BMC print the same line.
  args.push('-N', String(retransmit.intervalS), '-R', String(retransmit.retries), '-v', ...command);
  return { args, env };
}

/** K_g through IPMI_KGKEY (-K); a hex key ("0x…") is decoded, unless it holds a zero byte,
 * which no environment variable can carry: then -y, the only way ipmitool takes it. */
function kgArgs(kg: string, env: Record<string, string>): string[] {
  const hex = /^0x([0-9a-f]+)$/i.exec(kg)?.[1];
  if (!hex) {
    env.IPMI_KGKEY = kg;
    return ['-K'];
  }
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  if (bytes.includes(0)) return ['-y', hex];
  env.IPMI_KGKEY = bytes.toString('latin1');
  return ['-K'];
}

/** Lines ipmitool -v prints on every run; they say nothing about the failure. */
const NOISE =
  /^(Loading IANA PEN Registry|Running Get VSO|Invalid completion code received|Discovered IPMB|Get HPM\.x Capabilities|Password:)/;

/** What the BMC said when it refused us: retrying cannot fix these. */
const FATAL = [
  /HMAC is invalid/i, // RAKP 2: wrong password (or K_g)
  /unauthorized name/i, // RAKP 2: no such user
  /invalid integrity check/i, // RAKP 4: wrong K_g
  /Invalid user name/i, // IPMI 1.5 (-I lan)
  /Activate Session (command failed|error)/i, // IPMI 1.5: wrong password
  /insufficient privilege/i, // privilege_level too low for power control
  /Set Session Privilege Level .* failed/i, // privilege_level above what the user may have
  /(unsupported|invalid) cipher suite/i,
];

/** ipmitool exited non-zero: fatal when the BMC refused the credentials or settings, otherwise
 * (no answer, session setup timed out, BMC busy) worth another try. */
export function ipmiFailure(what: string, output: string, cause?: unknown): PowerError {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^>\s*/, '').trim())
    .filter((l) => l && !NOISE.test(l));
  const said = [...new Set(lines)].join('; ') || 'ipmitool failed without saying why';
  if (FATAL.some((re) => lines.some((l) => re.test(l)))) {
    return PowerError.fatal(
      `${what}: the BMC refused the request (check power_user, power_pass, k_g, privilege_level): ${said}`,
      cause,
    );
  }
  return PowerError.retryable(`${what}: ${said}`, cause);
}
