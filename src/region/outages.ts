// A dependency that is down or restarting (PostgreSQL, the Temporal server) is not a bug in the
// request: the API answers 503 with Retry-After so clients (the maas CLI, Juju, a load balancer)
// try again, instead of a 500 that reads like a fault. Pure: recognises the errors by their codes,
// which pg, TypeORM and gRPC put on them, without importing any of those packages.

export type Dependency = 'database' | 'workflow service';

export interface Outage {
  dependency: Dependency;
  /** What a client may be shown: never PostgreSQL's or gRPC's own text. */
  message: string;
}

/** Socket-level failures: the peer is not there (restarting, unreachable, or it cut the connection). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not yet back: class 08 (connection exception),
 * 57P01 admin_shutdown (a stop), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
 * recovering), 53300 too_many_connections.
 */
const SERVER_GONE = /^(08...|57P0[123]|53300)$/;

/** node-postgres's own errors carry no code, only these words. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Connection ended',
];

/** gRPC status codes: 14 UNAVAILABLE (server down or restarting), 4 DEADLINE_EXCEEDED. */
const GRPC_UNAVAILABLE = new Set([4, 14]);

/** The error and what it wraps (TypeORM's driverError, `cause`), a few levels deep. */
function* chain(err: unknown): Generator<Record<string, unknown>> {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const e = current as Record<string, unknown>;
    yield e;
    if (typeof e.driverError === 'object' && e.driverError !== null) yield e.driverError as Record<string, unknown>;
    current = e.cause;
  }
}

const DATABASE_MESSAGE =
  'The database is unavailable (restarting or unreachable); nothing was changed by this request. Try again shortly.';
const TEMPORAL_MESSAGE =
  'The workflow service (Temporal) is unavailable (restarting or unreachable); nothing was changed by this request. Try again shortly.';

/** The outage an error reports, or undefined when it is something else. */
export function dependencyOutage(err: unknown): Outage | undefined {
  for (const e of chain(err)) {
    const code = e.code;
    // gRPC errors (@grpc/grpc-js, Temporal's ServiceError cause) have a numeric code.
    if (typeof code === 'number' && GRPC_UNAVAILABLE.has(code) && ('details' in e || 'metadata' in e))
      return { dependency: 'workflow service', message: TEMPORAL_MESSAGE };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_GONE.test(code)))
      return { dependency: 'database', message: DATABASE_MESSAGE };
    const message = typeof e.message === 'string' ? e.message : '';
    if (PG_CONNECTION_MESSAGES.some((m) => message.includes(m)))
      return { dependency: 'database', message: DATABASE_MESSAGE };
  }
  return undefined;
}
