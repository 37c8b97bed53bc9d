// Machine credentials go on the kernel command line of a script that this HTTP server (no auth,
// as MAAS's) serves to anyone on the boot network who names a MAC. The rack hands them only to the
// machine that boots: the request must come from an address this rack's DHCP server has leased
// to that MAC right now. iPXE does its own DHCP with the booting NIC before it fetches the script,
// so the machine always holds such a lease.
//
// Relayed clients: the lease is still this rack's (the relay only forwards), and the request
// arrives from the leased address, so they pass. A machine whose lease came from another rack or
// an external DHCP server, or that reaches this rack through NAT, gets no credentials here: DHCP
// points a machine at the rack that answered it, so only a misrouted (or forged) request ends up
// here. A rack that serves no DHCP hands out no credentials at all.

/** The addresses this rack's DHCP server has leased to a MAC (colon form, lower case) right now. */
export type LeasedAddresses = (mac: string) => readonly string[];

export type CredentialGate = { ok: true } | { ok: false; message: string };

export function credentialGate(leased: LeasedAddresses | undefined, mac: string, peer: string): CredentialGate {
  if (!leased)
    return {
      ok: false,
      message: `Machine credentials for ${mac} are handed out only to an address this rack's DHCP server leased to it, and this rack serves no DHCP.`,
    };
  const from = plainAddress(peer);
  const held = leased(mac);
  if (held.includes(from)) return { ok: true };
  return {
    ok: false,
    message: held.length
      ? `Machine credentials for ${mac} go only to the address this rack leased to it, not to ${from}.`
      : `Machine credentials for ${mac} go only to an address this rack's DHCP server leased to it, and it holds no lease here (booted from another DHCP server or rack?).`,
  };
}

/** `::ffff:10.0.0.5` (IPv4 on a dual-stack socket) → `10.0.0.5`. */
function plainAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}
