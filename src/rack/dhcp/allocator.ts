// Which address a client is offered. Pure: reads the lease table and the subnet, changes nothing
// but its own scan position.
import type { Ip } from './ipv4';
import type { LeaseTable } from './lease-table';
import { isPoolAddress, mayHold, type ServedSubnet } from './subnets';

export class Allocator {
  /** Per subnet (by network address): where the next scan starts, so a scan is not quadratic. */
  private readonly cursors = new Map<Ip, Ip>();

  constructor(private readonly table: LeaseTable) {}

  /**
   * The client's fixed address; else the address it had (or was offered) here, if still allowed;
   * else the one it asks for, if free; else a free pool address (never used ones first). Undefined
   * when the pool is exhausted.
   */
  choose(subnet: ServedSubnet, mac: string, requested: Ip | undefined, now: number): Ip | undefined {
    const fixed = subnet.fixedByMac.get(mac);
    if (fixed) return fixed.ip;
    const free = (ip: Ip) => isPoolAddress(subnet, ip) && !this.table.heldByOther(ip, mac, now);
    const previous = this.table.latestOf(mac, (ip) => ip >= subnet.cidr.network && ip <= subnet.cidr.broadcast);
    if (previous && free(previous.ip)) return previous.ip;
    if (requested !== undefined && free(requested)) return requested;
    return this.scan(subnet, mac, now);
  }

  /** Whether `mac` may be given `ip` now (its own or a free address it may hold). */
  mayHave(subnet: ServedSubnet, mac: string, ip: Ip, now: number): boolean {
    return mayHold(subnet, mac, ip) && !this.table.heldByOther(ip, mac, now);
  }

  private scan(subnet: ServedSubnet, mac: string, now: number): Ip | undefined {
    if (subnet.poolSize === 0) return undefined;
    let reusable: Ip | undefined;
    const cursor = this.cursors.get(subnet.cidr.network);
    // A cursor left outside the ranges by a config change moves to the next range first.
    let ip =
      cursor === undefined ? subnet.dynamic[0]?.start : inPool(subnet, cursor) ? cursor : nextInPool(subnet, cursor);
    for (let n = 0; n < subnet.poolSize && ip !== undefined; n++, ip = nextInPool(subnet, ip)) {
      if (!isPoolAddress(subnet, ip) || this.table.heldByOther(ip, mac, now)) continue;
      if (this.table.isFresh(ip)) {
        this.cursors.set(subnet.cidr.network, nextInPool(subnet, ip));
        return ip;
      }
      reusable ??= ip;
    }
    if (reusable !== undefined) this.cursors.set(subnet.cidr.network, nextInPool(subnet, reusable));
    return reusable;
  }
}

const inPool = (subnet: ServedSubnet, ip: Ip): boolean => subnet.dynamic.some((r) => ip >= r.start && ip <= r.end);

/** The pool address after `ip`, wrapping from the last range to the first. */
function nextInPool(subnet: ServedSubnet, ip: Ip): Ip {
  const ranges = subnet.dynamic;
  for (const r of ranges) {
    if (ip < r.start) return r.start;
    if (ip < r.end) return ip + 1;
  }
  return ranges[0]!.start;
}
