// The region's DNS server (issue 14 item 5): BIND 9's named serving zones generated from the
// database (docs/adr/0004-bind-for-dns.md), republished within a second of a change.
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { DnsChangeFeed } from '../services/dns/dns-changes';
import { DnsSnapshotService } from '../services/dns/zone-snapshot';
import { DnsPublisher } from './dns-publisher';
import { NamedProcess } from './named-process';

export interface DnsServerOptions {
  db: DataSource;
  databaseUrl: string;
  stateDir: string;
  listen: { host: string; port: number };
  /** The region's hostname: the zones' NS record names it in the default domain, as MAAS does. */
  regionName: string;
  debounceMs?: number;
  /** Where upstream_dns servers answer, when not on 53 (tests). */
  upstreamPort?: number;
  log: (line: string) => void;
}

export interface RunningDnsServer {
  publisher: DnsPublisher;
  named: NamedProcess;
  stop(): Promise<void>;
}

/** MAAS's own debounce for DNS updates is about a second; less still batches a deploy's writes. */
const DEFAULT_DEBOUNCE_MS = 300;

/** Starts named on zones from the database; undefined (logged) when BIND is not installed. */
export async function startDnsServer(o: DnsServerOptions): Promise<RunningDnsServer | undefined> {
  const named = await NamedProcess.create(path.join(o.stateDir, 'dns'), o.log);
  if (!named) return undefined;
  const unspecified = o.listen.host === '0.0.0.0' || o.listen.host === '::';
  const publisher = new DnsPublisher({
    snapshots: new DnsSnapshotService(o.db),
    named,
    nameServer: { host: o.regionName, address: unspecified ? '127.0.0.1' : o.listen.host },
    listen: o.listen,
    upstreamPort: o.upstreamPort,
    debounceMs: o.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    log: o.log,
  });
  // Listen before the first publication, so no change falls between the two.
  const feed = new DnsChangeFeed(o.databaseUrl, () => publisher.changed(), o.log);
  await feed.start();
  try {
    await publisher.publish();
    await named.start();
  } catch (err) {
    await feed.stop();
    await named.stop();
    throw err;
  }
  o.log(`DNS: named answers on ${o.listen.host}:${o.listen.port}`);
  return {
    publisher,
    named,
    stop: async () => {
      publisher.stop();
      await feed.stop();
      await named.stop();
    },
  };
}
