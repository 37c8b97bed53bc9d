// MAAS's automatic tags, pure: a tag's `definition` is an XPath expression evaluated against a
// machine's lshw XML (the output of 00-maas-01-lshw); the machine has the tag when the expression
// matches (a non-empty node set, true, a non-zero number or a non-empty string: lxml's truth, as
// MAAS's try_match_xpath takes it). Names are matched unprefixed, as lshw writes them; the
// `lshw:` and `lldp:` prefixes MAAS binds resolve, but match only elements in those namespaces.
import { DOMParser } from '@xmldom/xmldom';
import { ValidationError } from '../errors';
import { xpath } from './xpath-lite';

const NAMESPACES: Record<string, string> = {
  lshw: 'http://www.ezix.org/lshw/',
  lldp: 'http://lldpd.github.io/',
};
const resolver = { lookupNamespaceURI: (prefix: string | null) => (prefix ? (NAMESPACES[prefix] ?? null) : null) };
/** A definition is an expression, not a program: MAAS's are a line or two. */
export const DEFINITION_MAX_LENGTH = 4096;

const emptyDoc = () => new DOMParser().parseFromString('<list/>', 'text/xml');

/** MAAS's Tag.clean_definition: a 400 naming the problem when `definition` is not XPath. */
export function checkDefinition(definition: string): void {
  if (definition.trim() === '') return;
  if (definition.length > DEFINITION_MAX_LENGTH)
    throw ValidationError.field(
      'definition',
      `Ensure this value has at most ${DEFINITION_MAX_LENGTH} characters (it has ${definition.length}).`,
    );
  try {
    xpath.selectWithResolver(definition, emptyDoc(), resolver);
  } catch (e) {
    throw ValidationError.field('definition', `Invalid XPath expression: ${(e as Error).message}`);
  }
}

/** A parsed lshw document, or null when the output is not XML (such a machine matches nothing). */
export function parseLshw(xml: Buffer): object | null {
  let failed = false;
  try {
    const doc = new DOMParser({
      onError: (level) => {
        if (level !== 'warning') failed = true;
      },
    }).parseFromString(xml.toString('utf8'), 'text/xml');
    return failed || !doc.documentElement ? null : doc;
  } catch {
    return null; // xmldom throws on a fatal error
  }
}

/** Whether `definition` matches the document (an empty definition matches nothing: a manual tag). */
export function definitionMatches(definition: string, doc: object | null): boolean {
  if (doc === null || definition.trim() === '') return false;
  try {
    const v = xpath.selectWithResolver(definition, doc, resolver);
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
    return Boolean(v);
  } catch {
    return false;
  }
}
