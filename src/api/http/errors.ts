// The errors a route may throw to answer with a specific HTTP status. MAAS answers most of them
// with a plain-text body (clients print it as-is), and form validation with a JSON object of
// field → messages, so an ApiError carries its body and content type, not just a message.

export const TEXT_PLAIN = 'text/plain; charset=utf-8';
/** Exactly this, without a charset: the `maas` CLI compares describe/'s content type verbatim. */
export const APPLICATION_JSON = 'application/json';

export class ApiError extends Error {
  override name = 'ApiError';
  readonly contentType: string;
  /** Koa's convention: without our error boundary, Koa's own handler still shows 4xx messages. */
  readonly expose: boolean;

  constructor(
    readonly status: number,
    readonly body: string | object,
    contentType?: string,
    /** Extra response headers, e.g. `Allow` on 405 or `WWW-Authenticate` on 401. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.contentType = contentType ?? (typeof body === 'string' ? TEXT_PLAIN : APPLICATION_JSON);
    this.expose = status < 500;
  }
}

/** 400. An object gives MAAS's form-validation shape `{"field": ["message", …]}`; a string is sent as text. */
export function badRequest(errors: Readonly<Record<string, readonly string[]>> | string): ApiError {
  return new ApiError(400, errors);
}

/** Piston's realm for MAAS; clients only need the scheme, but the header tells humans what to send. */
const OAUTH_CHALLENGE = { 'WWW-Authenticate': 'OAuth realm="MAAS API"' };

export function unauthorized(message: string): ApiError {
  return new ApiError(401, message, TEXT_PLAIN, OAUTH_CHALLENGE);
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, message);
}

/** 404. MAAS also answers 404 for objects the caller may not see, so callers need not say why. */
export function notFound(message = 'No matching object found.'): ApiError {
  return new ApiError(404, message);
}

/** Django's get_object_or_404 wording, which MAAS clients show to users: "No Machine matches the given query." */
export function noMatch(model: string): ApiError {
  return notFound(`No ${model} matches the given query.`);
}

export function methodNotAllowed(method: string, allowed: readonly string[]): ApiError {
  return new ApiError(405, `Method ${method} is not allowed here; allowed: ${allowed.join(', ')}.`, TEXT_PLAIN, {
    Allow: allowed.join(', '),
  });
}

/** 409: the request conflicts with the current state (locked, busy, "No machine available."). */
export function conflict(message: string): ApiError {
  return new ApiError(409, message);
}

export function payloadTooLarge(message: string): ApiError {
  // Close the connection: the client may still be sending the rest of a body we will not read.
  return new ApiError(413, message, TEXT_PLAIN, { Connection: 'close' });
}

/** How long a 503's Retry-After tells clients to wait: about what a PostgreSQL or Temporal restart takes. */
export const RETRY_AFTER_UNAVAILABLE_SECONDS = 5;

/** 503: a dependency cannot take the request now and nothing was changed; Retry-After says when to retry. */
export function serviceUnavailable(message: string, retryAfterSeconds = RETRY_AFTER_UNAVAILABLE_SECONDS): ApiError {
  return new ApiError(503, message, TEXT_PLAIN, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
}

/** 429: the caller has too much running already; Retry-After says when to try again. */
export function tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, message, TEXT_PLAIN, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
}
