// Region domain errors → MAAS's status codes. The one place that knows both sides.
import { InvalidTransitionError } from '../contracts/lifecycle';
import {
  ConflictError,
  ForbiddenError,
  FormValidationError,
  NotFoundError,
  QueryAbandonedError,
  TooManyRequestsError,
  UnavailableError,
  ValidationError,
} from '../region/errors';
import { databaseBusy, dependencyOutage, type BusyReason } from '../region/outages';
import { type ApiError, badRequest, conflict, forbidden, notFound, serviceUnavailable, tooManyRequests } from './http';

export function mapDomainError(err: unknown): ApiError | undefined {
  if (err instanceof FormValidationError) return badRequest(err.fields);
  if (err instanceof ValidationError) {
    // A form-wide error (Django's __all__) is plain text in MAAS; field errors are JSON.
    const keys = Object.keys(err.fields);
    return keys.length === 1 && keys[0] === '__all__'
      ? badRequest(err.fields.__all__!.join(' '))
      : badRequest(err.fields);
  }
  if (err instanceof NotFoundError) return notFound(err.message);
  if (err instanceof ForbiddenError) return forbidden(err.message);
  if (err instanceof ConflictError || err instanceof InvalidTransitionError) return conflict(err.message);
  if (err instanceof UnavailableError) return serviceUnavailable(err.message);
  if (err instanceof TooManyRequestsError) return tooManyRequests(err.message, err.retryAfterSeconds);
  // The client is gone; nobody reads this answer, but it is no server fault either.
  if (err instanceof QueryAbandonedError) return serviceUnavailable(err.message);
  // PostgreSQL or Temporal down or restarting: retryable, not a fault of ours or the client's.
  const outage = dependencyOutage(err);
  if (outage) return serviceUnavailable(outage.message);
  // Up, but no connection came free in time: a different 503, so nobody goes looking for an outage.
  const busy = databaseBusy(err);
  if (busy) return serviceUnavailable(busy.message);
  // Two requests racing to create the same name: the database's unique index decided. Services
  // map the indexes they know to MAAS's field errors; PostgreSQL's own text never reaches a client.
  const pg = err as { code?: string };
  if (pg.code === '23505') return conflict('Already exists: another request took the same unique value first.');
  // query_canceled: statement_timeout (or an operator's pg_cancel_backend) stopped the statement.
  if (pg.code === '57014')
    return serviceUnavailable(
      'The database stopped this request because it ran too long (statement timeout); narrow the filter or try again later.',
    );
  return undefined;
}

/**
 * mapDomainError, counting each error that found no free database connection (the region's
 * metalflow_db_busy_total): pool exhaustion is load or a leak of ours, so it gets a counter an
 * operator can alert on, apart from the outages.
 */
export function domainErrorMapper(busy?: { inc(labels: { reason: BusyReason }): void }) {
  return (err: unknown): ApiError | undefined => {
    const reason = busy ? databaseBusy(err)?.reason : undefined;
    if (busy && reason) busy.inc({ reason });
    return mapDomainError(err);
  };
}
