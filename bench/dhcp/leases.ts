// Reading each server's lease store after a run, for one correctness check: no address held by
// two clients and no client holding two addresses (latest record per address wins).
import fs from 'node:fs';
import type { ServerName } from './servers';

export interface LeaseCheck {
  addresses: number;
  clients: number;
  /** Clients holding more than one address at the end. */
  clientsWithSeveral: number;
}

export function checkLeases(name: ServerName, file: string): LeaseCheck {
  const holder = new Map<string, string>();
  for (const [ip, mac] of bindings(name, fs.readFileSync(file, 'utf8'))) {
    if (mac) holder.set(ip, mac);
    else holder.delete(ip);
  }
  const perClient = new Map<string, number>();
  for (const mac of holder.values()) perClient.set(mac, (perClient.get(mac) ?? 0) + 1);
  return {
    addresses: holder.size,
    clients: perClient.size,
    clientsWithSeveral: [...perClient.values()].filter((n) => n > 1).length,
  };
}

/** [ip, mac] per record in file order; mac '' when the record frees the address. */
function* bindings(name: ServerName, text: string): Generator<[string, string]> {
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (name === 'metalflow') {
      const l = JSON.parse(line) as { ip: string; mac: string; state: string };
      yield [l.ip, l.state === 'bound' ? l.mac : ''];
    } else if (name === 'dnsmasq') {
      // expiry mac ip hostname client-id
      const [, mac, ip] = line.split(' ');
      if (ip && mac) yield [ip, mac];
    } else {
      // address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,...
      const f = line.split(',');
      if (f[0] === 'address' || !f[0]) continue;
      yield [f[0], f[9] === '0' ? (f[1] ?? '') : ''];
    }
  }
}
