// ISC dhcpd's option names our DHCP snippets accept (code and ISC type), and the codes the server
// owns. The table for contracts/dhcp-snippets.ts's parser, kept apart so the parser reads alone.

/**
 * Options that choose the boot file. Our server's boot file always wins for a client it netboots
 * (PXE, iPXE, UEFI HTTP boot): a snippet must not be able to break commissioning, deployment or
 * enlistment. These statements (with next-server and filename) reach only clients the server gives
 * no boot file to.
 */
export const BOOT_FILE_CODES: ReadonlySet<number> = new Set([66, 67]);

/** Codes the server owns, with why a snippet may not set them. */
export const OWNED_OPTION_CODES: ReadonlyMap<number, string> = new Map([
  [0, 'it is the pad option'],
  [255, 'it is the end option'],
  [1, 'the server derives the subnet mask from the subnet'],
  [50, 'it is part of the DHCP protocol exchange (requested address)'],
  [51, 'the lease time is set with default-lease-time and max-lease-time'],
  [52, 'option overload is the server’s packet layout'],
  [53, 'it is part of the DHCP protocol exchange (message type)'],
  [54, 'it is part of the DHCP protocol exchange (server identifier)'],
  [55, 'it is the client’s parameter request list'],
  [56, 'it is part of the DHCP protocol exchange (message)'],
  [57, 'it is the client’s maximum message size'],
  [58, 'the server derives renewal from the lease time'],
  [59, 'the server derives rebinding from the lease time'],
  [60, 'the server sets the vendor class to choose PXE or HTTP boot'],
  [61, 'it is the client’s identifier'],
  [82, 'relay agent information is echoed from the relay, never set'],
  [93, 'it is the client’s architecture (PXE)'],
  [94, 'it is the client’s network interface identifier (PXE)'],
  [97, 'it is the client’s machine identifier (PXE)'],
  [175, 'the server sets iPXE’s options for netbooting'],
]);

/** ISC dhcpd's names for the standard options we accept, with their code and ISC type. */
export const STANDARD_OPTIONS: ReadonlyMap<string, { code: number; type: string }> = new Map(
  (
    [
      ['time-offset', 2, 'signed integer 32'],
      ['routers', 3, 'array of ip-address'],
      ['time-servers', 4, 'array of ip-address'],
      ['domain-name-servers', 6, 'array of ip-address'],
      ['log-servers', 7, 'array of ip-address'],
      ['lpr-servers', 9, 'array of ip-address'],
      ['host-name', 12, 'text'],
      ['domain-name', 15, 'text'],
      ['swap-server', 16, 'ip-address'],
      ['root-path', 17, 'text'],
      ['ip-forwarding', 19, 'boolean'],
      ['default-ip-ttl', 23, 'unsigned integer 8'],
      ['interface-mtu', 26, 'unsigned integer 16'],
      ['all-subnets-local', 27, 'boolean'],
      ['broadcast-address', 28, 'ip-address'],
      ['vendor-encapsulated-options', 43, 'string'],
      ['nis-domain', 40, 'text'],
      ['nis-servers', 41, 'array of ip-address'],
      ['ntp-servers', 42, 'array of ip-address'],
      ['netbios-name-servers', 44, 'array of ip-address'],
      ['netbios-node-type', 46, 'unsigned integer 8'],
      ['netbios-scope', 47, 'text'],
      ['tftp-server-name', 66, 'text'],
      ['bootfile-name', 67, 'text'],
      ['smtp-server', 69, 'array of ip-address'],
      ['pop-server', 70, 'array of ip-address'],
      ['www-server', 72, 'array of ip-address'],
      ['domain-search', 119, 'domain-list'],
      ['classless-static-routes', 121, 'array of unsigned integer 8'],
      ['rfc3442-classless-static-routes', 121, 'array of unsigned integer 8'],
      // Known so that the refusal says why (OWNED_OPTION_CODES), not "unknown option".
      ['subnet-mask', 1, 'ip-address'],
      ['dhcp-requested-address', 50, 'ip-address'],
      ['dhcp-lease-time', 51, 'unsigned integer 32'],
      ['dhcp-option-overload', 52, 'unsigned integer 8'],
      ['dhcp-message-type', 53, 'unsigned integer 8'],
      ['dhcp-server-identifier', 54, 'ip-address'],
      ['dhcp-parameter-request-list', 55, 'array of unsigned integer 8'],
      ['dhcp-message', 56, 'text'],
      ['dhcp-max-message-size', 57, 'unsigned integer 16'],
      ['dhcp-renewal-time', 58, 'unsigned integer 32'],
      ['dhcp-rebinding-time', 59, 'unsigned integer 32'],
      ['vendor-class-identifier', 60, 'string'],
      ['dhcp-client-identifier', 61, 'string'],
    ] as const
  ).map(([name, code, type]) => [name, { code, type }]),
);
