// Domain errors raised by region services; the API's error boundary maps them to MAAS's codes.
export class ValidationError extends Error {
  constructor(readonly fields: Record<string, string[]>) {
    super(
      Object.entries(fields)
        .map(([k, v]) => `${k}: ${v.join(' ')}`)
        .join('; '),
    );
    this.name = 'ValidationError';
  }
  static field(name: string, message: string): ValidationError {
    return new ValidationError({ [name]: [message] });
  }
}
/**
 * A Django form's errors (MAASAPIValidationError(form.errors)): always MAAS's JSON shape, even a
 * form-wide (`__all__`) one, which a bare ValidationError sends as text.
 */
export class FormValidationError extends ValidationError {
  override name = 'FormValidationError';
}
/** 404: what does not exist and what the caller may not see look the same. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}
/** 409: the request conflicts with the machine's state (locked, busy, nothing available). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}
/** 503: a dependency (Temporal, a rack) cannot take the request now; nothing was changed. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}
/** 429: the caller already has as much running as it may; it can retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends Error {
  override name = 'TooManyRequestsError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A query whose request went away (its signal aborted): nobody is waiting for the answer any more. */
export class QueryAbandonedError extends Error {
  override name = 'QueryAbandonedError';
}
