// The iPXE scripts a rack hands out (pure): the first script chains to the per-MAC script, which
// the region's boot config for that MAC decides. Everything a script contains is either ours or
// checked here: a value with a space, a quote or `$` would split or rewrite the kernel command line
// (iPXE expands `${…}` on every line), so it is refused rather than escaped.
import { BOOT_HTTP, CMDLINE } from '../../contracts/boot';
import type { MacBootConfig } from '../../contracts/rack-api';

/** A boot config the rack will not put on a kernel command line (the region sent something odd). */
export class UnsafeBootValueError extends Error {
  override name = 'UnsafeBootValueError';
}

// URL and token characters only: no whitespace, control characters, quotes, `$`, `\`, `&`, `|`, `;`.
const SAFE = /^[A-Za-z0-9._~:/@%+,=[\]-]+$/;

function safe(what: string, value: string): string {
  if (!SAFE.test(value))
    throw new UnsafeBootValueError(
      `Refusing to put ${what} ${JSON.stringify(value)} in an iPXE script: only letters, digits and ._~:/@%+,=[]- are allowed.`,
    );
  return value;
}

/** `http://<address>:<port>` as a machine reaches this rack (IPv6 in brackets, v4-mapped unwrapped). */
export function httpBase(address: string, port: number): string {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return safe('the server address', plain.includes(':') ? `http://[${plain}]:${port}` : `http://${plain}:${port}`);
}

/** iPXE expands this to the booting NIC's MAC as `52-54-00-12-34-56`. */
const IPXE_MAC_HYPHENS = '${mac:hexhyp}';
const CHAIN_ATTEMPTS = 3;
const RETRY_SECONDS = 5;

/**
 * The first script (BOOT_HTTP.bootScript, and TFTP's boot.ipxe): fetch the per-MAC script. A
 * rack that cannot answer yet (region down, nothing cached: 503) is asked again a few times, then
 * iPXE exits so the firmware tries its next boot device (a deployed machine's disk).
 * `--replace`: the per-MAC script takes this one's place, so its exit status reaches the firmware
 * (a UEFI local boot's `exit 1`) instead of counting here as a failed fetch. Exits are non-zero:
 * UEFI firmware answers a successful return with its boot menu, not the next BootOrder entry.
 */
export function bootScript(base: string): string {
  // BOOT_HTTP.macScript's shape, with iPXE filling in the MAC (macScript itself would rewrite the
  // variable's colon).
  const url = `${safe('the server URL', base)}/ipxe/mac/${IPXE_MAC_HYPHENS}.ipxe`;
  const lines = ['#!ipxe', '# metalflow: what this machine boots is decided per MAC by the region'];
  for (let attempt = 1; attempt <= CHAIN_ATTEMPTS; attempt++) {
    lines.push(`chain --replace ${url} || goto failed${attempt}`, `:failed${attempt}`);
    if (attempt < CHAIN_ATTEMPTS)
      lines.push(
        `echo metalflow: no boot script from the rack (attempt ${attempt} of ${CHAIN_ATTEMPTS}), retrying in ${RETRY_SECONDS} s`,
        `sleep ${RETRY_SECONDS}`,
      );
  }
  lines.push('echo metalflow: no boot script from the rack, trying the next boot device', 'exit 1', '');
  return lines.join('\n');
}

export interface MacScriptOptions {
  /** The rack's HTTP boot server as the machine reaches it (see httpBase). */
  base: string;
  /** Architecture directory of the ephemeral environment under /images/ephemeral/. */
  arch?: string;
}

/** The per-MAC script for what the region (or the rack's cache) says this machine should do. */
export function macScript(config: MacBootConfig, o: MacScriptOptions): string {
  const base = safe('the server URL', o.base);
  const who = config.known ? safe('the system_id', config.systemId) : 'unknown machine';
  switch (config.purpose) {
    case 'local':
      // BIOS: boot the first disk. UEFI has no drive 0x80: `exit 1` hands back to the firmware,
      // which moves on to the next BootOrder entry (the installed OS, which the installer put
      // right after the network entry, as curtin does for MAAS); `exit` (0) would stop at its menu.
      return script(`local boot for ${who}`, ['sanboot --no-describe --drive 0x80 || exit 1']);
    case 'poweroff':
      return script(`power off for ${who}`, ['poweroff']);
    case 'commissioning':
    case 'enlist':
    case 'xinstall':
      return script(
        `${config.purpose} for ${who}`,
        ephemeral(config, base, safe('the architecture', o.arch ?? 'amd64')),
      );
    default: {
      const unknown: never = config;
      throw new UnsafeBootValueError(
        `Unknown boot purpose ${JSON.stringify((unknown as { purpose: unknown }).purpose)}.`,
      );
    }
  }
}

function ephemeral(config: MacBootConfig, base: string, arch: string): string[] {
  // The machine reaches the metadata server and the enlistment API through this rack (the
  // proxy under /MAAS/), as MAAS machines do, whatever address the region itself has.
  const args: Array<[string, string]> = [
    [CMDLINE.purpose, config.purpose],
    [CMDLINE.metadataUrl, `${base}/MAAS/metadata`],
    [CMDLINE.apiUrl, `${base}/MAAS`],
  ];
  // Enlistment is anonymous, as in MAAS: a machine that is not known yet has no token.
  if (config.known && config.purpose !== 'enlist') {
    const creds = config.credentials;
    // The region sends credentials with every purpose that reports; without them the environment
    // could only fail, so the machine is told nothing rather than booted to no end.
    if (!creds) throw new UnsafeBootValueError(`No credentials for ${config.systemId}'s ${config.purpose} boot.`);
    args.push(
      [CMDLINE.consumerKey, creds.consumerKey],
      [CMDLINE.tokenKey, creds.tokenKey],
      [CMDLINE.tokenSecret, creds.tokenSecret],
      [CMDLINE.systemId, config.systemId],
    );
    if (config.purpose === 'xinstall' && config.image)
      args.push([CMDLINE.image, `${base}${config.image.path}`], [CMDLINE.imageSha256, config.image.sha256]);
    if (config.purpose === 'xinstall' && config.image && config.ephemeral)
      args.push([CMDLINE.ephemeral, config.deployed ? 'again' : '1']);
    if (config.purpose === 'commissioning' && config.erase) args.push([CMDLINE.erase, config.erase]);
  }
  const kernel = [
    `kernel ${base}${BOOT_HTTP.ephemeralKernel(arch)}`,
    // UEFI: this iPXE hands the initrd to the kernel's EFI stub by name (harmless on BIOS).
    'initrd=initrd.gz',
    // The last console is /dev/console: the serial line, which is what BMCs (SOL) and the lab's
    // VMs record; the screen still gets the kernel's messages.
    'console=tty0',
    'console=ttyS0',
    'panic=-1',
    `BOOTIF=01-${IPXE_MAC_HYPHENS}`,
    ...args.map(([key, value]) => `${key}=${safe(key, value)}`),
  ];
  return [kernel.join(' '), `initrd ${base}${BOOT_HTTP.ephemeralInitrd(arch)}`, 'boot'];
}

function script(comment: string, body: string[]): string {
  return ['#!ipxe', `# metalflow: ${comment}`, `echo metalflow: ${comment}`, ...body, ''].join('\n');
}
