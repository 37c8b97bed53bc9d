// This host's network interfaces and their addresses. Node's os.networkInterfaces() (libuv) leaves
// out interfaces that are up but have no carrier, e.g. a bridge whose machines are all powered
// off, which is exactly when a rack registers or its DHCP server starts; `ip -j addr` does not.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface HostInterface {
  name: string;
  mac: string;
  /** CIDR form, e.g. 10.77.0.1/24, fe80::1/64. */
  addresses: string[];
}

interface IpAddrJson {
  ifname: string;
  address?: string;
  link_type?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

export function hostInterfaces(): HostInterface[] {
  try {
    const parsed = JSON.parse(
      execFileSync('ip', ['-j', 'addr', 'show'], {
        encoding: 'utf8',
        timeout: 5_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as IpAddrJson[];
    return parsed
      .filter((i) => i.link_type !== 'loopback' && (i.addr_info ?? []).length > 0)
      .map((i) => ({
        name: i.ifname,
        mac: i.address ?? '',
        addresses: (i.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
      }));
  } catch {
    // No iproute2: what libuv sees (interfaces with carrier only).
    return Object.entries(os.networkInterfaces()).flatMap(([name, addrs]) => {
      const external = (addrs ?? []).filter((a) => !a.internal);
      return external[0] ? [{ name, mac: external[0].mac, addresses: external.map((a) => a.cidr ?? a.address) }] : [];
    });
  }
}
