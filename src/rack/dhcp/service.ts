// The rack's DHCP service: polls the region for this rack's DHCP config, serves it (socket open
// while there is a subnet, config swapped live), keeps leases in the state dir and reports lease
// events to the region (first the whole lease table, so a restart loses nothing the region should
// know). `status()` is what the rack heartbeat says about DHCP.
import type { DhcpConfig, RackHeartbeat } from '../../contracts/rack-api';
import { RACK_HTTP_PORT } from '../../contracts/rack-api';
import { sleep } from '../backoff';
import type { RegionClient } from '../region-client';
import { type LeaseJournal, openLeaseJournal } from './lease-store';
import { LeaseReporter } from './lease-reporter';
import { leaseEvent } from './responder';
import { hostAddresses, type LocalAddresses, type RouteSource } from './local-addresses';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer, type DhcpServerOptions } from './server';

export type DhcpServiceStatus = RackHeartbeat['services'][string];

export interface DhcpServiceOptions {
  region: Pick<RegionClient, 'dhcpConfig' | 'reportLeases'>;
  rackSystemId: () => string;
  /** Where the lease journal lives (the rack's state dir). */
  stateDir: string;
  /** UDP port to serve on (67). */
  port?: number;
  /** The rack's HTTP boot server port, for iPXE and UEFI HTTP boot URLs. */
  httpPort?: number;
  log: (line: string) => void;
  pollEveryMs?: number;
  /** Tests: where replies to relays and clients go. */
  relayPort?: number;
  clientPort?: number;
  localAddresses?: LocalAddresses;
  routeSource?: RouteSource;
  reportEveryMs?: number;
  /** See directRefusal in server.ts: answer broadcasts even with networks DHCP does not serve. */
  answerBroadcastsOnEveryNetwork?: boolean;
  /** Packets in and out by message type (the rack's metrics). */
  onPacket?: DhcpServerOptions['onPacket'];
}

export interface DhcpService {
  status(): DhcpServiceStatus;
  /** The running server (once the journal is open), for tests and diagnostics. */
  readonly server: DhcpServer | undefined;
  /** The addresses this rack's DHCP server has leased to `mac` right now (none before it runs). */
  leasedTo(mac: string): string[];
  /** Resolves after the first config poll was handled (served, or found empty or failing). */
  readonly firstPoll: Promise<void>;
  /** Stops polling and serving, delivers what it can of the pending lease events, closes the journal. */
  stop(): Promise<void>;
}

export function startDhcpService(o: DhcpServiceOptions): DhcpService {
  const abort = new AbortController();
  const state = {
    server: undefined as DhcpServer | undefined,
    journal: undefined as LeaseJournal | undefined,
    reporter: undefined as LeaseReporter | undefined,
    fatal: undefined as string | undefined,
    config: undefined as DhcpConfig | undefined,
    configError: undefined as string | undefined,
    bindError: undefined as string | undefined,
  };
  let polled!: () => void;
  const firstPoll = new Promise<void>((resolve) => (polled = resolve));

  const run = async (signal: AbortSignal): Promise<void> => {
    try {
      const opened = await openLeaseJournal(o.stateDir, { log: o.log });
      state.journal = opened.journal;
      const reporter = new LeaseReporter({
        report: (events, s, replace) =>
          o.region.reportLeases(o.rackSystemId(), { events, ...(replace ? { replace } : {}) }, s),
        // Bound leases only: an offer is not the client's yet.
        snapshot: () => {
          const now = Date.now();
          return (state.server?.leases() ?? opened.leases)
            .filter((l) => l.state === 'bound' && l.expiresAt > now)
            .map((l) => leaseEvent('commit', l, l.expiresAt));
        },
        log: o.log,
        everyMs: o.reportEveryMs,
      });
      state.reporter = reporter;
      state.server = new DhcpServer({
        port: o.port ?? DHCP_SERVER_PORT,
        relayPort: o.relayPort,
        clientPort: o.clientPort ?? DHCP_CLIENT_PORT,
        httpPort: o.httpPort ?? RACK_HTTP_PORT,
        journal: opened.journal,
        leases: opened.leases,
        onLeaseEvent: (e) => reporter.push(e),
        localAddresses: o.localAddresses,
        routeSource: o.routeSource,
        answerBroadcastsOnEveryNetwork: o.answerBroadcastsOnEveryNetwork,
        log: o.log,
        onPacket: o.onPacket,
      });
    } catch (err) {
      state.fatal = `lease journal in ${o.stateDir}: ${(err as Error).message}`;
      o.log(`dhcp: ${state.fatal}`);
      polled();
      return;
    }
    let applied: string | undefined;
    while (!signal.aborted) {
      try {
        const config = await o.region.dhcpConfig(o.rackSystemId(), signal);
        if (state.configError) o.log('dhcp: config from the region again');
        state.configError = undefined;
        state.config = config;
        // Our own addresses count too: an interface that gets its address late attaches a subnet.
        const key = JSON.stringify([config, (o.localAddresses ?? hostAddresses)()]);
        if (key !== applied) applied = await apply(state.server, config, key);
      } catch (err) {
        if (signal.aborted) break;
        if (!state.configError) o.log(`dhcp: cannot get the DHCP config from the region: ${(err as Error).message}`);
        state.configError = (err as Error).message;
      }
      polled();
      await sleep(o.pollEveryMs ?? 10_000, signal).catch(() => undefined);
    }
  };

  /** Applies the config; returns its key when done, undefined to try again next poll. */
  const apply = async (server: DhcpServer, config: DhcpConfig, key: string): Promise<string | undefined> => {
    try {
      await server.apply(config);
      if (state.bindError) o.log('dhcp: listening again');
      state.bindError = undefined;
      return key;
    } catch (err) {
      const message = `cannot listen on UDP port ${o.port ?? DHCP_SERVER_PORT}: ${(err as Error).message}`;
      if (state.bindError !== message) o.log(`dhcp: ${message}`);
      state.bindError = message;
      return undefined;
    }
  };

  const loop = run(abort.signal);

  return {
    status: () => describe(state),
    get server() {
      return state.server;
    },
    leasedTo: (mac) => state.server?.leasedTo(mac) ?? [],
    firstPoll,
    async stop() {
      abort.abort();
      await loop;
      await state.server?.close();
      await state.reporter?.stop();
      await state.journal?.close();
    },
  };
}

interface StatusInputs {
  server: DhcpServer | undefined;
  reporter: LeaseReporter | undefined;
  fatal: string | undefined;
  config: DhcpConfig | undefined;
  configError: string | undefined;
  bindError: string | undefined;
}

function describe(s: StatusInputs): DhcpServiceStatus {
  if (s.fatal) return { status: 'dead', message: s.fatal };
  if (s.bindError) return { status: 'dead', message: s.bindError };
  if (!s.config) {
    return {
      status: 'off',
      message: s.configError ? `no DHCP config yet: ${s.configError}` : 'waiting for the DHCP config from the region',
    };
  }
  const served = s.server?.servedSubnets ?? [];
  if (!s.config.subnets.length) return { status: 'off', message: 'no subnet of this rack has DHCP enabled' };
  if (!served.length || !s.server?.listening) {
    return {
      status: 'dead',
      message: `none of the ${s.config.subnets.length} configured subnet(s) can be served from this host (no address of ours reaches them)`,
    };
  }
  const what = `serving ${served.map((x) => x.config.cidr).join(', ')} on UDP port ${s.server.port}`;
  const troubles = [
    served.length < s.config.subnets.length
      ? `${s.config.subnets.length - served.length} subnet(s) not servable (see log)`
      : undefined,
    s.configError ? `config may be stale: ${s.configError}` : undefined,
    s.server.directRefusal,
    s.server.journalFailure ? `lease journal failing, no ACKs: ${s.server.journalFailure}` : undefined,
    s.reporter?.failing ? `lease reports failing (${s.reporter.backlog}): ${s.reporter.failing}` : undefined,
  ].filter((t) => t !== undefined);
  return troubles.length
    ? { status: 'degraded', message: `${what}; ${troubles.join('; ')}` }
    : { status: 'running', message: what };
}
