// What a workflow the region starts carries for the operator's view in Temporal: the owner (Owner
// search attribute, details) and the BMC its power steps drive (activity summaries). No secrets.
import type { EntityManager } from 'typeorm';
import type { PowerRef } from '../../contracts/workflows';
import type { Machine } from '../db/entities';

export interface OperatorRef {
  owner?: string;
  power?: PowerRef;
}

export async function operatorRef(manager: EntityManager, m: Machine): Promise<OperatorRef> {
  let owner: string | undefined;
  if (m.ownerId !== null) {
    const rows: Array<{ username: string }> = await manager.query(`SELECT username FROM users WHERE id = $1`, [
      m.ownerId,
    ]);
    owner = rows[0]?.username;
  }
  const raw = m.powerParameters?.power_address;
  const address = raw ? displayedAddress(raw) : undefined;
  return {
    ...(owner ? { owner } : {}),
    ...(m.powerType ? { power: { type: m.powerType, ...(address ? { address } : {}) } } : {}),
  };
}

/**
 * The BMC address as Temporal shows it (static details, activity summaries): host[:port][/path]
 * only. Temporal's history is readable by whoever reaches it and kept after the machine is gone,
 * and a URL-like address (redfish's http(s)://) may carry credentials in its userinfo, or tokens in
 * its query string or fragment; none of that helps an operator find the BMC. An address that does
 * not parse as a URL is shown without anything before an `@` or from a `?` or `#` on.
 */
export function displayedAddress(address: string): string | undefined {
  const text = address.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return undefined; // Unparsed, it could still hold a secret: shown as none.
    }
    const path = url.pathname === '/' ? '' : url.pathname;
    return url.host ? `${url.host}${path}` : undefined;
  }
  const bare = text.replace(/[?#].*$/s, '').replace(/^.*@/s, '');
  return bare || undefined;
}
