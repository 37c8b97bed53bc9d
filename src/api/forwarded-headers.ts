// X-Forwarded-For/-Host/-Proto tell the region who the client is and which address it asked for.
// Anyone can send them, so they are believed only from the proxies the operator named
// (METALFLOW_TRUSTED_PROXIES): from any other peer they are removed before Koa reads them. Koa's
// `app.proxy` is all-or-nothing, so the app keeps it on and this middleware decides per peer.
import net from 'node:net';
import type Koa from 'koa';

const FORWARDED = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'] as const;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Addresses and CIDRs (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`) as a matcher; throws on anything else. */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = net.isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 4 ? 32 : 128;
    if (family === 0 || rest.length > 0 || (bits !== undefined && (!/^\d{1,3}$/.test(prefix!) || bits > maxBits)))
      throw new Error(`Not an IP address or CIDR: "${entry}".`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return (address) => {
    const plain = plainAddress(address);
    const family = net.isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The client behind trusted proxies: X-Forwarded-For read from the right (each proxy appends the
 * peer it saw), skipping proxies we trust; the first address we do not trust is the client.
 */
function clientAddress(peer: string, forwardedFor: string, trusted: (a: string) => boolean): string {
  const chain = forwardedFor
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let client = peer;
  for (let i = chain.length - 1; i >= 0 && trusted(client); i--) {
    if (net.isIP(plainAddress(chain[i]!)) === 0) break; // garbage: stop at the last address we know
    client = plainAddress(chain[i]!);
  }
  return client;
}

export function forwardedHeaders(trustedProxies: readonly string[]): Koa.Middleware {
  const trusted = addressMatcher(trustedProxies);
  return async function forwarded(ctx, next) {
    const peer = plainAddress(ctx.req.socket.remoteAddress ?? '');
    const headers = ctx.req.headers;
    if (trusted(peer)) {
      ctx.request.ip = clientAddress(peer, String(headers['x-forwarded-for'] ?? ''), trusted);
    } else {
      for (const name of FORWARDED) delete headers[name];
      ctx.request.ip = peer;
    }
    return next();
  };
}
