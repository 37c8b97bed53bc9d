// A dependency that is down or restarting (PostgreSQL, the Temporal server) is not a bug in the
// request: the API answers 503 with Retry-After so clients (the maas CLI, Juju, a load balancer)
// try again, instead of a 500 that reads like a fault. Pure: recognises the errors by their codes,
// which pg, TypeORM and gRPC put on them, without importing any of those packages.
import { errorChain } from './error-chain';

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
 * SQLSTATEs of a server that is going away or not yet back: 08000 connection_exception, 08001
 * sqlclient_unable_to_establish_sqlconnection, 08003 connection_does_not_exist, 08006
 * connection_failure, 57P01 admin_shutdown (a stop), 57P02 crash_shutdown, 57P03
 * cannot_connect_now (starting up or recovering). Not the rest of class 08: 08P01
 * protocol_violation or 08004 are faults of the client (ours), which a 503 would hide.
 */
const SERVER_GONE = /^(0800[0136]|57P0[123])$/;

/** node-postgres's own errors carry no code, only these words. */
const PG_CONNECTION_MESSAGES = ['Connection terminated', 'is not queryable', 'Connection ended'];

/**
 * No connection came free: pg-pool's wait for one of its connections ran out (every one stayed in
 * use: load, or a leak of ours), or PostgreSQL refused a new one (53300 too_many_connections). The
 * database is up; calling that an outage would send an operator to the wrong place.
 */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';
const TOO_MANY_CONNECTIONS = '53300';

/** gRPC status codes: 14 UNAVAILABLE (server down or restarting), 4 DEADLINE_EXCEEDED. */
const GRPC_UNAVAILABLE = new Set([4, 14]);

const DATABASE_MESSAGE =
  'The database is unavailable (restarting or unreachable); nothing was changed by this request. Try again shortly.';
/** The first words of the 503 while Temporal is away (a caller that did commit something says so after them). */
export const WORKFLOW_SERVICE_DOWN = 'The workflow service (Temporal) is unavailable (restarting or unreachable)';
const TEMPORAL_MESSAGE = `${WORKFLOW_SERVICE_DOWN}; nothing was changed by this request. Try again shortly.`;

const BUSY_MESSAGE =
  'The region is busy: every database connection stayed in use for the whole wait. Try again shortly.';

/** Why no database connection was had: the region's pool ran dry, or PostgreSQL's max_connections. */
export type BusyReason = 'pool' | 'server';

export interface Busy {
  reason: BusyReason;
  /** What a client may be shown. */
  message: string;
}

/** The region out of database connections (not an outage: the database answers), or undefined. */
export function databaseBusy(err: unknown): Busy | undefined {
  for (const e of errorChain(err)) {
    if (e.code === TOO_MANY_CONNECTIONS) return { reason: 'server', message: BUSY_MESSAGE };
    if (typeof e.message === 'string' && e.message.includes(POOL_WAIT_TIMEOUT))
      return { reason: 'pool', message: BUSY_MESSAGE };
  }
  return undefined;
}

/** The outage an error reports, or undefined when it is something else. */
export function dependencyOutage(err: unknown): Outage | undefined {
  for (const e of errorChain(err)) {
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
