// A row count (LIMIT, OFFSET) written into the SQL text rather than passed as a parameter: the
// region's pool plans prepared statements generically (db/prepared-statements.ts), and a generic
// plan guesses a LIMIT parameter at a tenth of the rows, which can turn an index walk over a big
// table (events, script results) into a sort of all of it.
export function sqlCount(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Not a row count: ${n}`);
  return String(n);
}
