// Request parameters as MAAS sees them: every name may carry several values (form fields, multipart
// parts and the query string all repeat keys for lists, e.g. mac_addresses=a&mac_addresses=b).
// Typed readers turn a bad value into MAAS's 400 shape {"name": ["message"]}, naming the field, with
// Django's wording where Django has one (clients and users have seen those messages for years).
import { badRequest } from './errors';

type Entries = Iterable<readonly [string, string]>;

export interface StringOptions {
  required?: boolean;
  maxLength?: number;
}
export interface IntOptions {
  required?: boolean;
  min?: number;
  max?: number;
}
export interface ListOptions {
  required?: boolean;
}

const REQUIRED = 'This field is required.';
const TRUE_WORDS = new Set(['true', '1', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'off']);

export class Params {
  private readonly queryValues = new Map<string, string[]>();
  private readonly bodyValues = new Map<string, string[]>();
  /** Multipart parts that carry bytes: those with a filename, or a non-text content type. */
  readonly files: ReadonlyMap<string, Buffer>;

  constructor(sources: { query?: Entries; body?: Entries; files?: ReadonlyMap<string, Buffer> } = {}) {
    collect(this.queryValues, sources.query ?? []);
    collect(this.bodyValues, sources.body ?? []);
    this.files = sources.files ?? new Map();
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
    return this.getAll(name).at(-1);
  }

  getAll(name: string): string[] {
    return [...(this.queryValues.get(name) ?? []), ...(this.bodyValues.get(name) ?? [])];
  }

  has(name: string): boolean {
    return this.getAll(name).length > 0;
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
    const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value)) throw fieldError(name, 'Enter a whole number.');
    if (options.min !== undefined && value < options.min) {
      throw fieldError(name, `Ensure this value is greater than or equal to ${options.min}.`);
    }
    if (options.max !== undefined && value > options.max) {
      throw fieldError(name, `Ensure this value is less than or equal to ${options.max}.`);
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
    const values = this.getAll(name).filter((v) => v !== '');
    if (options.required && values.length === 0) throw fieldError(name, REQUIRED);
    return values;
  }
}

function collect(into: Map<string, string[]>, entries: Entries): void {
  for (const [name, value] of entries) {
    const list = into.get(name);
    if (list) list.push(value);
    else into.set(name, [value]);
  }
}

function fieldError(name: string, message: string) {
  return badRequest({ [name]: [message] });
}
