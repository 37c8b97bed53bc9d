// Matches request paths against resource templates like '/machines/{system_id}/'. Accepts the
// path with or without its trailing slash, and MAAS 3.3's `/op-NAME` suffix form of `?op=NAME`.
import { badRequest } from './errors';

export interface PathMatch<T> {
  value: T;
  params: Record<string, string>;
  /** The template matched, e.g. '/machines/{system_id}/' (a bounded label for metrics). */
  template: string;
  /** The operation named by an `/op-NAME` suffix, if the path had one. */
  op?: string;
}

interface Compiled<T> {
  template: string;
  value: T;
  regex: RegExp;
  names: string[];
}

const OP_SUFFIX = /^(.*)\/op-([^/]+)\/?$/;

export class PathMatcher<T> {
  private readonly routes: Array<Compiled<T>>;

  /** `cidrPlaceholders`: placeholders that also match `10.0.0.0/24` (a prefix length after a slash). */
  constructor(entries: Iterable<{ template: string; value: T; cidrPlaceholders?: readonly string[] }>) {
    this.routes = [...entries]
      .map(({ template, value, cidrPlaceholders }) => compile(template, value, cidrPlaceholders ?? []))
      // Literal segments beat placeholders: '/tags/special/' before '/tags/{name}/'.
      .sort((a, b) => a.names.length - b.names.length);
  }

  /**
   * `/zones/op-x/` (trailing slash) is the zone named "op-x", as in MAAS, whose op suffix never ends
   * in a slash; `/zones/op-x` is operation x on /zones/. Either reading is the fallback of the other.
   */
  match(path: string): PathMatch<T> | undefined {
    const exact = () => this.matchExact(path);
    const withOp = () => {
      const m = OP_SUFFIX.exec(path);
      if (!m) return undefined;
      const found = this.matchExact(`${m[1] ?? ''}/`);
      return found && { ...found, op: decode(m[2] ?? '') };
    };
    return path.endsWith('/') ? (exact() ?? withOp()) : (withOp() ?? exact());
  }

  private matchExact(path: string): PathMatch<T> | undefined {
    const trimmed = trimSlash(path);
    for (const route of this.routes) {
      const m = route.regex.exec(trimmed);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decode(m[i + 1] ?? '')));
      return { value: route.value, params, template: route.template };
    }
    return undefined;
  }
}

function compile<T>(template: string, value: T, cidrPlaceholders: readonly string[]): Compiled<T> {
  const names: string[] = [];
  const source = trimSlash(template)
    .split(/(\{[^{}/]+\})/)
    .map((piece) => {
      const placeholder = /^\{([^{}/]+)\}$/.exec(piece);
      if (!placeholder) return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const name = placeholder[1] ?? '';
      names.push(name);
      return cidrPlaceholders.includes(name) ? '([^/]+(?:/\\d{1,3})?)' : '([^/]+)';
    })
    .join('');
  return { template, value, regex: new RegExp(`^${source}$`), names };
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`Malformed percent-encoding in the path: ${segment}`);
  }
}
