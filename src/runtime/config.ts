// Process configuration from the environment: only entry points read it, everything else is given
// what it needs.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LOG_FORMATS, type LogFormat } from '../contracts/log';

export interface Config {
  stateDir: string;
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalCliPath: string | undefined;
  temporalUiPort: number;
  apiHost: string;
  apiPort: number;
  /**
   * How long the API keeps an idle keep-alive connection open: longer than the idle timeout of the
   * proxies and load balancers put in front of regions (an AWS ALB's 60 s, nginx's upstream
   * keepalive_timeout 60 s). A backend that closes an idle connection first races the proxy's next
   * request on it, which the proxy then answers 502. Node's own default is 5 s.
   */
  httpKeepAliveMs: number;
  /** The URL machines and racks use to reach the region. */
  regionUrl: string;
  /** METALFLOW_TRUSTED_PROXIES: peers (IPs, CIDRs) whose X-Forwarded-* headers the region believes. */
  trustedProxies: string[];
  nodeTimeoutMs: number | undefined;
  rackName: string;
  /** The region controller's name (its machine's hostname): METALFLOW_REGION_NAME, else the host's name. */
  regionName: string;
  /** How often the reconciler looks for stranded machines, and how long it leaves fresh changes alone. */
  reconcileIntervalMs: number;
  /** How often a rack polls its machines' BMCs, and how many at once. */
  powerPoll: { everyMs: number; concurrency: number };
  reconcileGraceMs: number;
  /** How long a lifecycle request (op=commission, deploy, release, test) waits for its workflow's start. */
  startWaitMs: number;
  /** The rack's boot servers: ports (0 = any free port, null = off) and the directory they serve. */
  rackBoot: RackBootConfig;
  /** How the region uses PostgreSQL: two pools, so heavy listings cannot starve everything else. */
  database: DatabaseLimits;
  /** METALFLOW_DNS_LISTEN: where the region's named answers (addr:port, [v6]:port), or null (off). */
  dnsListen: { host: string; port: number } | null;
  /** METALFLOW_LOG_FORMAT: `json` (one object per line, the default) or `text` (human lines). */
  logFormat: LogFormat;
  /** METALFLOW_RACK_METRICS_PORT: the rack's /metrics port (5249, MAAS's; 0 = any, null = off). */
  rackMetricsPort: number | null;
  /**
   * METALFLOW_REGION_METRICS_PORT: /metrics of a worker-only region process (which has no API to
   * serve /MAAS/metrics on); null = off, the default. Ignored where the process serves the API.
   */
  regionWorkerMetricsPort: number | null;
}

export interface DatabaseLimits {
  /** Connections for everything but machine listings: authentication, writes, workflow activities. */
  poolSize: number;
  /** Connections machine listings (API and UI) may use at once; the rest of the region never waits for them. */
  listingPoolSize: number;
  /** PostgreSQL's statement_timeout on every region connection (0 = none; migrations never have one). */
  statementTimeoutMs: number;
  /** How many machine listings one user may run at once; more wait their turn (up to 16, 30 s), then 429. */
  listingsPerUser: number;
  /** METALFLOW_DB_PREPARED_STATEMENTS=off: no prepared statements (a pooler in transaction mode that cannot keep them). */
  preparedStatements: boolean;
}

export interface RackBootConfig {
  bootRoot: string;
  dhcpPort: number | null;
  tftpPort: number | null;
  httpPort: number | null;
  dhcpPollMs: number;
  /** METALFLOW_DHCP_BROADCASTS=all: answer unrelayed broadcasts though this host has unserved networks. */
  dhcpBroadcastsEverywhere: boolean;
}

/** `METALFLOW_DHCP_PORT=off` turns a server off; unset is its standard port. */
function port(value: string | undefined, standard: number): number | null {
  if (value === 'off') return null;
  return int(value, standard);
}

function onOff(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'on' || value === 'off') return value === 'on';
  throw new Error(`${name} is "on" or "off", got "${value}".`);
}

function int(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Expected a whole number, got "${value}".`);
  return n;
}

/**
 * Node reads 0 as "never close an idle connection", and a timer past ~24.8 days as 1 ms: both
 * refused, not passed on; an hour is far beyond any proxy's idle timeout.
 */
function keepAliveSeconds(value: string | undefined): number {
  const seconds = int(value, 75);
  if (seconds < 1 || seconds > 3600)
    throw new Error(`METALFLOW_HTTP_KEEPALIVE_SECONDS: "${value}" must be between 1 and 3600.`);
  return seconds;
}

/** Comma-separated IPs and CIDRs; a typo fails at start rather than trusting nothing silently. */
function addressList(name: string, value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = net.isIP(address);
    const ok =
      family !== 0 &&
      rest.length === 0 &&
      (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)));
    if (!ok)
      throw new Error(`${name}: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.5, 10.0.0.0/24, fd00::/8).`);
  }
  return entries;
}

/** Port 53 needs root; otherwise a high port of metalflow's range, next to the API's 5240. */
const DNS_DEFAULT_PORT_UNPRIVILEGED = 5255;

/** METALFLOW_DNS_LISTEN: `off`, `addr`, `addr:port` or `[v6addr]:port`; default all IPv4 addresses. */
export function dnsListen(value: string | undefined, isRoot: boolean): { host: string; port: number } | null {
  const defaultPort = isRoot ? 53 : DNS_DEFAULT_PORT_UNPRIVILEGED;
  if (value === 'off') return null;
  if (value === undefined || value === '') return { host: '0.0.0.0', port: defaultPort };
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  const host = m?.[1] ?? (net.isIPv6(value) ? value : '');
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (net.isIP(host) === 0 || port < 1 || port > 65535)
    throw new Error(
      `METALFLOW_DNS_LISTEN: "${value}" is not off, an IP address, addr:port or [v6addr]:port (e.g. 10.0.0.1:53).`,
    );
  return { host, port };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const apiPort = int(env.METALFLOW_API_PORT, 5240);
  const apiHost = env.METALFLOW_API_HOST ?? '127.0.0.1';
  return {
    stateDir: path.resolve(env.METALFLOW_STATE_DIR ?? '.metalflow'),
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    temporalCliPath: env.TEMPORAL_CLI_PATH || undefined,
    temporalUiPort: int(env.TEMPORAL_UI_PORT, 8233),
    apiHost,
    apiPort,
    httpKeepAliveMs: keepAliveSeconds(env.METALFLOW_HTTP_KEEPALIVE_SECONDS) * 1000,
    regionUrl: (env.METALFLOW_REGION_URL ?? `http://${apiHost}:${apiPort}/MAAS`).replace(/\/$/, ''),
    trustedProxies: addressList('METALFLOW_TRUSTED_PROXIES', env.METALFLOW_TRUSTED_PROXIES),
    nodeTimeoutMs: env.METALFLOW_NODE_TIMEOUT_SECONDS ? int(env.METALFLOW_NODE_TIMEOUT_SECONDS, 0) * 1000 : undefined,
    rackName: env.METALFLOW_RACK_NAME ?? 'rack-local',
    regionName: env.METALFLOW_REGION_NAME || os.hostname().split('.')[0]!.toLowerCase(),
    reconcileIntervalMs: int(env.METALFLOW_RECONCILE_INTERVAL_SECONDS, 15) * 1000,
    powerPoll: {
      everyMs: int(env.METALFLOW_POWER_POLL_SECONDS, 15) * 1000,
      concurrency: Math.max(1, int(env.METALFLOW_POWER_POLL_CONCURRENCY, 10)),
    },
    reconcileGraceMs: int(env.METALFLOW_RECONCILE_GRACE_SECONDS, 30) * 1000,
    startWaitMs: int(env.METALFLOW_START_WAIT_MS, 150),
    rackBoot: {
      bootRoot: path.resolve(env.METALFLOW_BOOT_ROOT ?? path.join(__dirname, '..', '..', 'build', 'boot')),
      dhcpPort: port(env.METALFLOW_DHCP_PORT, 67),
      tftpPort: port(env.METALFLOW_TFTP_PORT, 69),
      httpPort: port(env.METALFLOW_HTTP_BOOT_PORT, 5248),
      dhcpPollMs: int(env.METALFLOW_DHCP_POLL_SECONDS, 10) * 1000,
      dhcpBroadcastsEverywhere: env.METALFLOW_DHCP_BROADCASTS === 'all',
    },
    database: {
      poolSize: Math.max(2, int(env.METALFLOW_DB_POOL_SIZE, 20)),
      listingPoolSize: Math.max(1, int(env.METALFLOW_DB_LISTING_POOL_SIZE, 6)),
      statementTimeoutMs: int(env.METALFLOW_DB_STATEMENT_TIMEOUT_MS, 30_000),
      listingsPerUser: Math.max(1, int(env.METALFLOW_LISTINGS_PER_USER, 1)),
      preparedStatements: onOff('METALFLOW_DB_PREPARED_STATEMENTS', env.METALFLOW_DB_PREPARED_STATEMENTS, true),
    },
    dnsListen: dnsListen(env.METALFLOW_DNS_LISTEN, process.getuid?.() === 0),
    logFormat: logFormat(env.METALFLOW_LOG_FORMAT),
    rackMetricsPort: port(env.METALFLOW_RACK_METRICS_PORT, 5249),
    regionWorkerMetricsPort: env.METALFLOW_REGION_METRICS_PORT ? port(env.METALFLOW_REGION_METRICS_PORT, 0) : null,
  };
}

export function logFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === '') return 'json';
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new Error(`METALFLOW_LOG_FORMAT: "${value}" is not one of ${LOG_FORMATS.join(', ')}.`);
}
