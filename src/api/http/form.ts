// An action's form: its parameters declared once (name, type, required, doc, caps). The same
// declaration parses the request, eagerly and in declaration order, and writes the `:param` /
// `:type` lines of the action's describe/ doc (MAAS's docstring fields, from which the `maas` CLI
// 3.6+ builds its arguments). `build` sees only the declared values, so a parameter cannot be
// accepted but undocumented, or documented but never read.
import { badRequest } from './errors';
import type { Params } from './params';

/** MAAS's docstring type names. */
export type FieldType = 'String' | 'Int' | 'Float' | 'Boolean' | 'JSON';

export interface FieldSpec<T> {
  type: FieldType;
  doc: string;
  required: boolean;
  /** Repeated parameter (`name=a&name=b`): every non-empty value. */
  repeated?: boolean;
  /** Every parameter named `<name><suffix>` (power_parameters_*): the name ends with '_'. */
  prefixed?: boolean;
  /** Not a parameter but a fact about the request the form's checks need: left out of describe/. */
  undocumented?: boolean;
  /** Takes a multipart file part of its name (known-params.ts lets that part through). */
  file?: boolean;
  /**
   * Takes every parameter the form does not declare (MAAS's script parameters, named after what
   * the chosen scripts declare, which only the service knows and checks); describe/ shows it so.
   */
  rest?: string;
  /** `declared`: the form's own field names (what a `rest` field leaves to them). */
  read(params: Params, name: string, declared?: ReadonlySet<string>): T;
}

type Values<F> = { [K in keyof F]: F[K] extends FieldSpec<infer T> ? T : never };

export interface Form<T> {
  fields: Readonly<Record<string, FieldSpec<unknown>>>;
  parse(params: Params): T;
}

/** Declares a form: `fields` keyed by parameter name, `build` from their parsed values. */
export function form<F extends Record<string, FieldSpec<unknown>>, T = Values<F>>(
  fields: F,
  build?: (values: Values<F>) => T,
): Form<T> {
  return {
    fields,
    parse(params) {
      const values: Record<string, unknown> = {};
      const declared = new Set(Object.keys(fields));
      for (const [name, spec] of Object.entries(fields)) values[name] = spec.read(params, name, declared);
      return build ? build(values as Values<F>) : (values as T);
    },
  };
}

interface Caps {
  maxLength?: number;
}
interface IntCaps {
  min?: number;
  max?: number;
}

export function text(doc: string, o: Caps & { required: true }): FieldSpec<string>;
export function text(doc: string, o?: Caps & { required?: false }): FieldSpec<string | undefined>;
export function text(doc: string, o: Caps & { required?: boolean } = {}): FieldSpec<string | undefined> {
  const required = o.required ?? false;
  return {
    type: 'String',
    doc: withCaps(doc, o.maxLength === undefined ? '' : `at most ${o.maxLength} characters`),
    required,
    read: (p, name) => p.string(name, { required, maxLength: o.maxLength }),
  };
}

export function int(doc: string, o: IntCaps = {}): FieldSpec<number | undefined> {
  const range = [o.min === undefined ? '' : `>= ${o.min}`, o.max === undefined ? '' : `<= ${o.max}`].filter(Boolean);
  return { type: 'Int', doc: withCaps(doc, range.join(', ')), required: false, read: (p, name) => p.int(name, o) };
}

export function bool(doc: string, o: { required: true }): FieldSpec<boolean>;
export function bool(doc: string, o?: { required?: false }): FieldSpec<boolean | undefined>;
export function bool(doc: string, o: { required?: boolean } = {}): FieldSpec<boolean | undefined> {
  const required = o.required ?? false;
  return { type: 'Boolean', doc, required, read: (p, name) => p.bool(name, { required }) };
}

/**
 * Bytes from a multipart file part (the maas CLI's `name@=path`) or, as MAAS takes them too, a
 * plain value of the same name; more than `maxBytes` is a 400 naming the field.
 */
export function file(doc: string, o: { maxBytes: number }): FieldSpec<Buffer | undefined> {
  return {
    type: 'String',
    doc: withCaps(doc, `at most ${o.maxBytes} bytes`),
    required: false,
    file: true,
    read: (p, name) => {
      const text = p.files.has(name) ? undefined : p.get(name);
      const bytes = p.files.get(name) ?? (text === undefined ? undefined : Buffer.from(text, 'utf8'));
      if (bytes !== undefined && bytes.length > o.maxBytes)
        throw badRequest({ [name]: [`Ensure this file has at most ${o.maxBytes} bytes (it has ${bytes.length}).`] });
      return bytes;
    },
  };
}

/** A repeated parameter; `maxValues` raises (or lowers) Params' default cap on how many values it may carry. */
export function list(doc: string, o: { required?: boolean; maxValues?: number } = {}): FieldSpec<string[]> {
  const required = o.required ?? false;
  const caps = o.maxValues === undefined ? doc : withCaps(doc, `at most ${o.maxValues} values`);
  return {
    type: 'String',
    doc: caps,
    required,
    repeated: true,
    read: (p, name) => p.list(name, { required, maxValues: o.maxValues }),
  };
}

/** Every repeated value, empty ones included (a filter that must see `name=`). */
export function rawList(doc: string): FieldSpec<string[]> {
  return { type: 'String', doc, required: false, repeated: true, read: (p, name) => p.getAll(name) };
}

/** Whether the parameter was sent at all, and its values: for "absent leaves it, empty clears it". */
export function present<T>(spec: FieldSpec<T>): FieldSpec<T | undefined> {
  return { ...spec, read: (p, name) => (p.has(name) ? spec.read(p, name) : undefined) };
}

/** The parsed value and every raw value sent (e.g. to carry them into a next-page URI). */
export function withRaw<T>(spec: FieldSpec<T>): FieldSpec<{ value: T; raw: string[] }> {
  return { ...spec, read: (p, name) => ({ value: spec.read(p, name), raw: p.getAll(name) }) };
}

/** The raw text of a JSON parameter; the build step parses it and names the field on errors. */
export function json(doc: string): FieldSpec<string | undefined> {
  return { type: 'JSON', doc, required: false, read: (p, name) => p.get(name) };
}

/** Every parameter whose name starts with the declared prefix, last value each, prefix kept. */
export function prefixed(doc: string): FieldSpec<Record<string, string>> {
  return {
    type: 'String',
    doc,
    required: false,
    prefixed: true,
    read: (p, prefix) =>
      Object.fromEntries(
        p
          .names()
          .filter((n) => n.startsWith(prefix) && n.length > prefix.length)
          .map((n) => [n, p.get(n) ?? '']),
      ),
  };
}

/**
 * Every parameter the form does not declare, but `op`: name → its last value (at most `maxLength`
 * characters). For MAAS's script parameters (`<script>_<parameter>=value`), whose names come from
 * the scripts a request chooses: the service refuses one they do not declare, so nothing is
 * dropped. describe/ lists it as `shownAs`.
 */
export function rest(doc: string, o: { shownAs: string; maxLength: number }): FieldSpec<Record<string, string>> {
  return {
    type: 'String',
    doc: withCaps(doc, `each at most ${o.maxLength} characters`),
    required: false,
    rest: o.shownAs,
    // Its own name is not the form's: a request naming it is a parameter like any other.
    read: (p, name, declared) =>
      Object.fromEntries(
        p
          .names()
          .filter((n) => n !== 'op' && (n === name || !declared?.has(n)))
          .map((n) => [n, p.string(n, { maxLength: o.maxLength }) ?? '']),
      ),
  };
}

/**
 * A MAAS parameter metalflow cannot honour yet: documented as such, and a 400 naming it when the
 * request asks for it (a true Boolean, a non-empty String), never accepted and ignored.
 */
export function unsupported(why: string, type: 'Boolean' | 'String' = 'String'): FieldSpec<undefined> {
  const refuse = (name: string) => badRequest({ [name]: [`${name} is not supported yet: ${why}`] });
  return {
    type,
    doc: `Not supported yet (${type === 'Boolean' ? 'true' : 'a value'} is refused): ${why}`,
    required: false,
    read: (p, name) => {
      if (type === 'Boolean' ? p.bool(name) : p.list(name).length > 0) throw refuse(name);
      return undefined;
    },
  };
}

/** Every parameter name the request gave but `op`: for a form that refuses what it does not take. */
export function requestNames(): FieldSpec<string[]> {
  return {
    type: 'String',
    doc: '',
    required: false,
    undocumented: true,
    read: (p) => p.names().filter((n) => n !== 'op'),
  };
}

/**
 * Every parameter the request gave but `op`, with its values, in request order: MAAS quotes them
 * back (allocate's "No available machine matches constraints: [('cpu_count', ['2'])] …").
 */
export function requestValues(): FieldSpec<Array<[string, string[]]>> {
  return {
    type: 'String',
    doc: '',
    required: false,
    undocumented: true,
    read: (p) =>
      p
        .names()
        .filter((n) => n !== 'op')
        .map((n): [string, string[]] => [n, p.getAll(n, { maxValues: Number.MAX_SAFE_INTEGER })]),
  };
}

/** MAAS's docstring parameter fields for a form, one `:param`/`:type` pair per field. */
export function formDocLines(f: Form<unknown>): string[] {
  return Object.entries(f.fields).flatMap(([name, spec]) => {
    if (spec.undocumented) return [];
    const shown = spec.rest ?? (spec.prefixed ? `${name}{key}` : name);
    const text = `${spec.required ? 'Required.' : 'Optional.'} ${spec.doc}${spec.repeated ? ' Repeat the parameter for several values.' : ''}`;
    return [`:param ${shown}: ${text}`, `:type ${shown}: ${spec.type}`];
  });
}

/** The action's describe/ doc: its summary, then its parameters as MAAS's docstrings list them. */
export function actionDoc(summary: string, f: Form<unknown> | undefined): string {
  const lines = f ? formDocLines(f) : [];
  return lines.length === 0 ? summary : `${summary}\n\n${lines.join('\n')}\n`;
}

function withCaps(doc: string, caps: string): string {
  return caps ? `${doc} (${caps})` : doc;
}
