// Which first-stage boot file a network-booting client gets: firmware PXE loads iPXE over TFTP,
// UEFI HTTP boot loads it over HTTP, and iPXE itself gets the rack's first boot script.
import { BOOT_HTTP, TFTP_FILES } from '../../contracts/boot';
import { OPT, optClientArchs, optText, optUserClasses, type DhcpOptions } from './options';

/** RFC 4578 / IANA processor architecture types (option 93) the rack has a loader for. */
export const ARCH = { biosX86: 0, efiIa32: 6, efiBc: 7, efiX64: 9, efiX64Http: 16 } as const;

export interface ClientFirmware {
  /** Option 93, when sent (the first listed if several). */
  arch: number | undefined;
  vendorClass: string | undefined;
  /** iPXE identifies itself with user class "iPXE". */
  ipxe: boolean;
  /** Network-booting firmware (option 93 or a PXEClient vendor class): gets short leases. */
  pxe: boolean;
}

export function clientFirmware(opts: DhcpOptions): ClientFirmware {
  const archs = optClientArchs(opts);
  const vendorClass = optText(opts, OPT.vendorClass);
  return {
    arch: archs[0],
    vendorClass,
    ipxe: optUserClasses(opts).includes('iPXE'),
    pxe: archs.length > 0 || (vendorClass?.startsWith('PXEClient') ?? false),
  };
}

export interface BootFile {
  /** BOOTP `file` and option 67. */
  filename: string;
  /** Option 60 in the reply: UEFI HTTP boot ignores offers without "HTTPClient". */
  vendorClass?: string;
  /** Option 175/176 = 1 (iPXE only). */
  ipxeNoPxeDhcp: boolean;
}

export interface BootServer {
  ip: string;
  httpPort: number;
}

/** The boot file for this client, or undefined when it is not network booting (or no loader fits). */
export function chooseBootFile(client: ClientFirmware, server: BootServer): BootFile | undefined {
  const http = `http://${server.ip}:${server.httpPort}`;
  if (client.ipxe) return { filename: `${http}${BOOT_HTTP.bootScript}`, ipxeNoPxeDhcp: true };
  if (!client.pxe && !client.vendorClass?.startsWith('HTTPClient')) return undefined;
  // A PXEClient without option 93 is old BIOS firmware: option 93 arrived with UEFI.
  switch (client.arch ?? ARCH.biosX86) {
    case ARCH.biosX86:
      return { filename: TFTP_FILES.biosIpxe, ipxeNoPxeDhcp: false };
    case ARCH.efiIa32:
    case ARCH.efiBc:
    case ARCH.efiX64:
      return { filename: TFTP_FILES.uefiIpxe, ipxeNoPxeDhcp: false };
    case ARCH.efiX64Http:
      return { filename: `${http}/${TFTP_FILES.uefiIpxe}`, vendorClass: 'HTTPClient', ipxeNoPxeDhcp: false };
    default:
      return undefined;
  }
}
