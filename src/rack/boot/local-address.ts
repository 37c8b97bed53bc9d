// Which of this host's addresses a client reaches us on. Node's dgram cannot report the
// destination address of a received packet (no IP_PKTINFO), so ask the kernel instead: the source
// address it would use to answer that client, which on a PXE segment is the one the client used.
import dgram from 'node:dgram';
import net from 'node:net';

export async function localAddressFor(remote: string): Promise<string | undefined> {
  if (!net.isIP(remote)) return undefined;
  const socket = dgram.createSocket(net.isIPv6(remote) ? 'udp6' : 'udp4');
  try {
    // connect() on UDP only picks a route and a source address; nothing is sent.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, remote, (err?: Error) => (err ? reject(err) : resolve()));
    });
    return socket.address().address;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}

/** True for 0.0.0.0, ::, and the like: a bind address that says nothing about where we are. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::0' || address === '';
}
