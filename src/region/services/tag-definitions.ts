// MAAS's automatic tags, pure: a tag's `definition` is an XPath expression evaluated against a
// machine's probe details (lshw's XML, the output of 00-maas-01-lshw, and lldpctl's, the output of
// maas-capture-lldpd) merged into one document as MAAS's merge_details merges them: lshw's
// document is the root, unchanged, so unprefixed names match lshw as they always did; then each
// detail, in name order (lldp, lshw), is appended to that root with its unqualified elements moved
// into a namespace named as the detail, which the `lldp:` and `lshw:` prefixes select. The machine
// has the tag when the expression matches (a non-empty node set, true, a non-zero number or a
// non-empty string: lxml's truth, as MAAS's try_match_xpath takes it).
import { DOMParser } from '@xmldom/xmldom';
import { ValidationError } from '../errors';
import { xpath } from './xpath-lite';

/** MAAS's nsmap: each detail's prefix is also its namespace's URI. */
const NAMESPACES: Record<string, string> = { lldp: 'lldp', lshw: 'lshw' };
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

/** A parsed XML document, or null when the output is not XML. */
function parseXml(xml: Buffer): XmlDocument | null {
  let failed = false;
  try {
    const doc = new DOMParser({
      onError: (level) => {
        if (level !== 'warning') failed = true;
      },
    }).parseFromString(xml.toString('utf8'), 'text/xml') as unknown as XmlDocument;
    return failed || !doc.documentElement ? null : doc;
  } catch {
    return null; // xmldom throws on a fatal error
  }
}

/** A machine's probe details as MAAS keeps them: each the script's XML output, or null. */
export interface ProbeDetails {
  lshw: Buffer | null;
  lldp: Buffer | null;
}

/**
 * The document definitions are evaluated against (MAAS's merge_details), or null when neither
 * detail is XML (such a machine matches nothing). A detail that is not XML is left out, as MAAS
 * leaves it out.
 */
export function parseDetails(details: ProbeDetails): object | null {
  const parsed = {
    lldp: details.lldp ? parseXml(details.lldp) : null,
    lshw: details.lshw ? parseXml(details.lshw) : null,
  };
  if (!parsed.lldp && !parsed.lshw) return null;
  // lshw's own document is the root (MAAS's backward compatibility); without it a bare <list>,
  // the name lshw's root has, so "/list//lldp:…" works either way.
  const doc = (details.lshw ? parseXml(details.lshw) : null) ?? (emptyDoc() as unknown as XmlDocument);
  for (const ns of ['lldp', 'lshw'] as const) {
    const detail = parsed[ns];
    if (detail) doc.documentElement.appendChild(intoNamespace(doc, detail.documentElement, ns));
  }
  return doc;
}

/** lshw's XML alone (what the lshw firmware check and older callers read). */
export function parseLshw(xml: Buffer): object | null {
  return parseDetails({ lshw: xml, lldp: null });
}

// The few DOM members used here (xmldom's nodes; TypeScript's DOM library is kept out, see xpath-lite).
interface XmlNode {
  nodeType: number;
  namespaceURI: string | null;
  localName: string | null;
  nodeName: string;
  childNodes: ArrayLike<XmlNode>;
  attributes?: ArrayLike<XmlNode & { value: string }>;
  appendChild(n: XmlNode): XmlNode;
  setAttributeNodeNS?(a: XmlNode): void;
}
interface XmlDocument extends XmlNode {
  documentElement: XmlNode;
  createElementNS(ns: string, qualifiedName: string): XmlNode;
  importNode(n: XmlNode, deep: boolean): XmlNode;
}
const ELEMENT = 1;

/** A copy of `el` in `doc` whose unqualified elements are in namespace `ns` (prefix `ns`). */
function intoNamespace(doc: XmlDocument, el: XmlNode, ns: string): XmlNode {
  const copy = el.namespaceURI
    ? doc.importNode(el, false)
    : doc.createElementNS(ns, `${ns}:${el.localName ?? el.nodeName}`);
  if (!el.namespaceURI)
    for (const a of Array.from(el.attributes ?? [])) copy.setAttributeNodeNS!(doc.importNode(a, false));
  for (const child of Array.from(el.childNodes))
    copy.appendChild(child.nodeType === ELEMENT ? intoNamespace(doc, child, ns) : doc.importNode(child, true));
  return copy;
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
