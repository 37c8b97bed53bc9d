// Region domain errors → MAAS's status codes. The one place that knows both sides.
import { InvalidTransitionError } from '../contracts/lifecycle';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../region/errors';
import { type ApiError, badRequest, conflict, forbidden, notFound, serviceUnavailable } from './http';

export function mapDomainError(err: unknown): ApiError | undefined {
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
  // Two requests racing to create the same name: the database's unique index decided. Services
  // map the indexes they know to MAAS's field errors; PostgreSQL's own text never reaches a client.
  const pg = err as { code?: string };
  if (pg.code === '23505') return conflict('Already exists: another request took the same unique value first.');
  return undefined;
}
