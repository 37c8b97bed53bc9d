// This host's IPv4 addresses: how the DHCP server knows which subnets are directly attached and
// what its own address is on each.
import dgram from 'node:dgram';
import net from 'node:net';
import { hostInterfaces } from '../host-interfaces';

export type LocalAddresses = () => string[];

export const hostAddresses: LocalAddresses = () =>
  hostInterfaces()
    .flatMap((i) => i.addresses)
    .map((cidr) => cidr.split('/')[0]!)
    .filter((a) => net.isIPv4(a));

/** Our source address toward `ip` by the kernel's routing table (a UDP connect sends nothing). */
export type RouteSource = (ip: string) => Promise<string | undefined>;

export const kernelRouteSource: RouteSource = async (ip) => {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(9, ip, () => resolve());
    });
    return sock.address().address;
  } catch {
    return undefined;
  } finally {
    sock.close();
  }
};
