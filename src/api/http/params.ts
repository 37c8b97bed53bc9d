// Request parameters as MAAS sees them: every name may carry several values (form fields, multipart
// parts and the query string all repeat keys for lists, e.g. mac_addresses=a&mac_addresses=b).
// Typed readers turn a bad value into MAAS's 400 shape {"name": ["message"]}, naming the field, with
// Django's wording where Django has one (clients and users have seen those messages for years).
//
// This is the one input layer every handler reads through, so it refuses once, for all of them:
// control characters in names and values (control-chars.ts), integers outside PostgreSQL's int4
// unless a reader asks for another range, and more parameters than the caps below.
import { assertText } from './control-chars';
import { badRequest } from './errors';

/** `[name, value]`; a third element 'bytes' marks a value decoded from a binary multipart part. */
type Entry = readonly [string, string] | readonly [string, string, 'bytes'];
type Entries = Iterable<Entry>;

/**
 * Caps on one request's parameters (README, "Input limits"). They bound the work and memory a
 * request can cause before any handler sees it: every repeated value may become an SQL clause.
 */
export const PARAM_LIMITS = {
  /** Values one name may carry in getAll()/list() unless the reader passes a larger `maxValues`. */
  valuesPerName: 100,
  /** Distinct parameter names in one request (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS is 1,000). */
  names: 1_000,
  /** Values in one request, all names together: also the most a reader's `maxValues` can allow. */
  values: 10_000,
} as const;

/** PostgreSQL's `integer`: the default range of `int()`, so no out-of-range value reaches SQL. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;

export interface StringOptions {
  required?: boolean;
  maxLength?: number;
}
export interface IntOptions {
  required?: boolean;
  /** Default INT4_MIN. */
  min?: number;
  /** Default INT4_MAX. */
  max?: number;
}
export interface ValuesOptions {
  /** How many values the name may carry; default PARAM_LIMITS.valuesPerName. */
  maxValues?: number;
}
export interface ListOptions extends ValuesOptions {
  required?: boolean;
}

const REQUIRED = 'This field is required.';
const TRUE_WORDS = new Set(['true', '1', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'off']);

export class Params {
  private readonly queryValues = new Map<string, string[]>();
  private readonly bodyValues = new Map<string, string[]>();
  /** Names with a value from a binary part: checked for control characters when read, not before. */
  private readonly byteNames = new Set<string>();
  /** Multipart parts that carry bytes: those with a filename, or a non-text content type. */
  readonly files: ReadonlyMap<string, Buffer>;

  /** Throws a 400 naming the field on a control character or a request over PARAM_LIMITS. */
  constructor(sources: { query?: Entries; body?: Entries; files?: ReadonlyMap<string, Buffer> } = {}) {
    const counts = { names: new Set<string>(), values: 0 };
    this.collect(this.queryValues, sources.query ?? [], counts);
    this.collect(this.bodyValues, sources.body ?? [], counts);
    this.files = sources.files ?? new Map();
    for (const name of this.files.keys()) countName(name, counts);
  }

  private collect(into: Map<string, string[]>, entries: Entries, counts: { names: Set<string>; values: number }): void {
    for (const [name, value, kind] of entries) {
      countName(name, counts);
      if (++counts.values > PARAM_LIMITS.values) {
        throw fieldError(name, `Too many values: a request may carry at most ${PARAM_LIMITS.values} in all.`);
      }
      if (kind === 'bytes') this.byteNames.add(name);
      else assertText(name, value);
      const list = into.get(name);
      if (list) list.push(value);
      else into.set(name, [value]);
    }
  }

  /** Test and handler convenience: body values from a plain object; arrays become repeated keys. */
  static of(values: Readonly<Record<string, string | readonly string[]>>, files?: ReadonlyMap<string, Buffer>): Params {
    const body: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(values)) {
      for (const v of typeof value === 'string' ? [value] : value) body.push([name, v]);
    }
    return new Params({ body, files });
  }

  /** The last value, query first then body, so a body value wins (Django's QueryDict.get). */
  get(name: string): string | undefined {
    const value = this.bodyValues.get(name)?.at(-1) ?? this.queryValues.get(name)?.at(-1);
    if (value !== undefined && this.byteNames.has(name)) assertText(name, value);
    return value;
  }

  /** Every value, query first; more than `maxValues` (default PARAM_LIMITS.valuesPerName) is a 400. */
  getAll(name: string, options: ValuesOptions = {}): string[] {
    const values = [...(this.queryValues.get(name) ?? []), ...(this.bodyValues.get(name) ?? [])];
    const max = Math.min(options.maxValues ?? PARAM_LIMITS.valuesPerName, PARAM_LIMITS.values);
    if (values.length > max)
      throw fieldError(name, `At most ${max} values of ${name} are allowed (got ${values.length}).`);
    if (this.byteNames.has(name)) for (const v of values) assertText(name, v);
    return values;
  }

  has(name: string): boolean {
    return this.queryValues.has(name) || this.bodyValues.has(name);
  }

  names(): string[] {
    return [...new Set([...this.queryValues.keys(), ...this.bodyValues.keys()])];
  }

  /** The value from the query string alone (MAAS reads `op` from the query before the body). */
  fromQuery(name: string): string | undefined {
    return this.queryValues.get(name)?.at(-1);
  }

  fromBody(name: string): string | undefined {
    return this.bodyValues.get(name)?.at(-1);
  }

  string(name: string, options: StringOptions & { required: true }): string;
  string(name: string, options?: StringOptions): string | undefined;
  string(name: string, options: StringOptions = {}): string | undefined {
    const value = this.get(name);
    if (value === undefined || (value === '' && options.required)) {
      if (options.required) throw fieldError(name, REQUIRED);
      return undefined;
    }
    if (options.maxLength !== undefined && value.length > options.maxLength) {
      throw fieldError(name, `Ensure this value has at most ${options.maxLength} characters (it has ${value.length}).`);
    }
    return value;
  }

  int(name: string, options: IntOptions & { required: true }): number;
  int(name: string, options?: IntOptions): number | undefined;
  int(name: string, options: IntOptions = {}): number | undefined {
    const raw = this.get(name)?.trim();
    if (raw === undefined || raw === '') {
      if (options.required) throw fieldError(name, REQUIRED);
      return undefined;
    }
    // Digits only: Number() would also take 1e3, 0x10, 1.5 and ' ', which Django's IntegerField does not.
    if (!/^[+-]?\d+$/.test(raw)) throw fieldError(name, 'Enter a whole number.');
    const { min = INT4_MIN, max = INT4_MAX } = options;
    // Huge digit strings lose precision as numbers; their sign alone tells which bound they pass.
    const value = Number(raw);
    if (value < min || (!Number.isSafeInteger(value) && raw.startsWith('-'))) {
      throw fieldError(name, `Ensure this value is greater than or equal to ${min}.`);
    }
    if (value > max || !Number.isSafeInteger(value)) {
      throw fieldError(name, `Ensure this value is less than or equal to ${max}.`);
    }
    return value;
  }

  /** MAAS's StringBool: true/false, 1/0, on/off, any case. Absent (or empty) → undefined. */
  bool(name: string, options: { required: true }): boolean;
  bool(name: string, options?: { required?: boolean }): boolean | undefined;
  bool(name: string, options: { required?: boolean } = {}): boolean | undefined {
    const raw = this.get(name)?.trim().toLowerCase();
    if (raw === undefined || raw === '') {
      if (options.required) throw fieldError(name, REQUIRED);
      return undefined;
    }
    if (TRUE_WORDS.has(raw)) return true;
    if (FALSE_WORDS.has(raw)) return false;
    throw fieldError(name, `'${this.get(name) ?? ''}' is not a valid boolean: use true/false, 1/0 or on/off.`);
  }

  /** Every non-empty value of a repeated parameter, in request order. */
  list(name: string, options: ListOptions = {}): string[] {
    const values = this.getAll(name, options).filter((v) => v !== '');
    if (options.required && values.length === 0) throw fieldError(name, REQUIRED);
    return values;
  }
}

function countName(name: string, counts: { names: Set<string> }): void {
  assertText(name, name);
  counts.names.add(name);
  if (counts.names.size > PARAM_LIMITS.names) {
    throw fieldError(name, `Too many parameters: a request may carry at most ${PARAM_LIMITS.names} names.`);
  }
}

function fieldError(name: string, message: string) {
  return badRequest({ [name]: [message] });
}
