// Database ids in a path (`/fabrics/{id}/`) are PostgreSQL integers: anything else, including
// 1e3, 0x10, -1, 1.5 or 99999999999, names no object, so it is a 404 before any SQL runs (an
// out-of-range integer reaching PostgreSQL is an error there, i.e. a 500).
import { INT4_MAX } from './params';

/** The id a path segment names (0 … INT4_MAX, digits only), or undefined when it can name none. */
export function pathId(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const id = Number(value);
  return id <= INT4_MAX ? id : undefined;
}
