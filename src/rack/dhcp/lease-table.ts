// Who holds which address, in memory: the DHCP server's single source of truth while it runs
// (the journal only makes it survive restarts). Pure data, no clock: callers pass `now` (ms).
import type { Ip } from './ipv4';

/**
 * offered: held for the client until it REQUESTs or the offer times out (never journaled);
 * bound: leased; released/expired: free, but remembered so the client gets it back;
 * declined: a client found it in use (DECLINE): nobody gets it until the quarantine ends.
 */
export type LeaseState = 'offered' | 'bound' | 'released' | 'expired' | 'declined';

export interface Lease {
  ip: Ip;
  /** The holder (leases follow the NIC: PXE ROM, iPXE and the OS send different client ids). */
  mac: string;
  hostname: string;
  state: LeaseState;
  /** ms since the epoch: end of the offer hold, the lease, or the quarantine. */
  expiresAt: number;
}

const HOLDING: ReadonlySet<LeaseState> = new Set(['offered', 'bound', 'declined']);

export class LeaseTable {
  private readonly byIp = new Map<Ip, Lease>();
  private readonly byMac = new Map<string, Ip[]>();

  get(ip: Ip): Lease | undefined {
    return this.byIp.get(ip);
  }

  /** Whether someone other than `mac` holds `ip` right now. */
  heldByOther(ip: Ip, mac: string, now: number): boolean {
    const l = this.byIp.get(ip);
    return l !== undefined && l.mac !== mac && isHolding(l, now);
  }

  /** Whether the address has never been recorded (a fresh address is handed out before a used one). */
  isFresh(ip: Ip): boolean {
    return !this.byIp.has(ip);
  }

  /** `mac`'s most recent record among addresses `where` accepts (declined ones excluded). */
  latestOf(mac: string, where: (ip: Ip) => boolean): Lease | undefined {
    let best: Lease | undefined;
    for (const ip of this.byMac.get(mac) ?? []) {
      const l = this.byIp.get(ip);
      if (l && l.state !== 'declined' && where(ip) && (!best || l.expiresAt > best.expiresAt)) best = l;
    }
    return best;
  }

  /** The addresses `mac` holds a live binding on (an offer is not the client's yet). */
  boundTo(mac: string, now: number): Ip[] {
    return (this.byMac.get(mac) ?? []).filter((ip) => {
      const l = this.byIp.get(ip);
      return l !== undefined && l.state === 'bound' && l.expiresAt > now;
    });
  }

  /** Records `lease` as the address's current state (replacing whatever was there). */
  set(lease: Lease): void {
    const before = this.byIp.get(lease.ip);
    if (before && before.mac !== lease.mac) this.unindex(before);
    this.byIp.set(lease.ip, lease);
    const ips = this.byMac.get(lease.mac);
    if (!ips) this.byMac.set(lease.mac, [lease.ip]);
    else if (!ips.includes(lease.ip)) ips.push(lease.ip);
  }

  delete(ip: Ip): void {
    const l = this.byIp.get(ip);
    if (!l) return;
    this.unindex(l);
    this.byIp.delete(ip);
  }

  /** Bound leases whose time is up (the caller marks them expired and tells the region). */
  expiredBindings(now: number): Lease[] {
    return [...this.byIp.values()].filter((l) => l.state === 'bound' && l.expiresAt <= now);
  }

  /** Offers and quarantines whose time is up: forgotten silently (a lapsed offer keeps its holder as a hint). */
  lapse(now: number): void {
    for (const l of this.byIp.values()) {
      if (l.state === 'offered' && l.expiresAt <= now) l.state = 'released';
      else if (l.state === 'declined' && l.expiresAt <= now) this.delete(l.ip);
    }
  }

  all(): IterableIterator<Lease> {
    return this.byIp.values();
  }

  get size(): number {
    return this.byIp.size;
  }

  private unindex(l: Lease): void {
    const ips = this.byMac.get(l.mac);
    if (!ips) return;
    const rest = ips.filter((ip) => ip !== l.ip);
    if (rest.length) this.byMac.set(l.mac, rest);
    else this.byMac.delete(l.mac);
  }
}

export const isHolding = (l: Lease, now: number): boolean => HOLDING.has(l.state) && l.expiresAt > now;
