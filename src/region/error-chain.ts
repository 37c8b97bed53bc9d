// Errors from the database arrive wrapped: TypeORM keeps pg's error as `driverError`, and our own
// errors keep what they caught as `cause`. Whoever recognises an error by its code walks them all.

/** The error and what it wraps (TypeORM's driverError, `cause`), a few levels deep. */
export function* errorChain(err: unknown): Generator<Record<string, unknown>> {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const e = current as Record<string, unknown>;
    yield e;
    if (typeof e.driverError === 'object' && e.driverError !== null) yield e.driverError as Record<string, unknown>;
    current = e.cause;
  }
}
