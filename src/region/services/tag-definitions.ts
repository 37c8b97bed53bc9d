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
import { SIGNAL_LIMITS } from './signal-limits';
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
  const lshw = parseBounded(details.lshw);
  const lldp = parseBounded(details.lldp);
  // lshw's own document is the root (MAAS's backward compatibility), its copy under lshw: made from
  // it before anything is appended; without it (or nested too deep to be XML to MAAS) a bare
  // <list>, the name lshw's root has, so "/list//lldp:…" works either way.
  const lshwCopy = lshw && intoNamespace(lshw, lshw.documentElement, 'lshw');
  const root = lshwCopy ? lshw! : (emptyDoc() as unknown as XmlDocument);
  const lldpCopy = lldp && intoNamespace(root, lldp.documentElement, 'lldp');
  if (!lldpCopy && !lshwCopy) return null;
  if (lldpCopy) root.documentElement.appendChild(lldpCopy);
  if (lshwCopy) root.documentElement.appendChild(lshwCopy);
  return root;
}

/** A detail's document; none when it is missing, not XML, or past what a signal may upload (never parsed). */
function parseBounded(xml: Buffer | null | undefined): XmlDocument | null {
  return xml && xml.length <= SIGNAL_LIMITS.fileBytes ? parseXml(xml) : null;
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

/**
 * libxml2's default nesting limit, which MAAS's lxml parser applies: a detail nested deeper is not
 * XML to MAAS (merge_details leaves it out), and a copy this deep is all a definition can need.
 */
const MAX_DEPTH = 256;

/**
 * A copy of `root` in `doc` whose unqualified elements are in namespace `ns` (prefix `ns`), or
 * null when it nests deeper than MAX_DEPTH. A loop, not recursion: a machine's output decides the
 * depth, and a deep enough one must not exhaust the stack.
 */
function intoNamespace(doc: XmlDocument, root: XmlNode, ns: string): XmlNode | null {
  const copyOf = (el: XmlNode): XmlNode => {
    if (el.namespaceURI) return doc.importNode(el, false);
    const copy = doc.createElementNS(ns, `${ns}:${el.localName ?? el.nodeName}`);
    for (const a of Array.from(el.attributes ?? [])) copy.setAttributeNodeNS!(doc.importNode(a, false));
    return copy;
  };
  const top = copyOf(root);
  const pending: Array<[XmlNode, XmlNode, number]> = [[root, top, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [el, copy, depth] = next;
    if (depth > MAX_DEPTH) return null;
    // Each child is appended in order now; its own children are copied when it is taken off the stack.
    for (const child of Array.from(el.childNodes)) {
      if (child.nodeType !== ELEMENT) {
        copy.appendChild(doc.importNode(child, true));
        continue;
      }
      const childCopy = copyOf(child);
      copy.appendChild(childCopy);
      pending.push([child, childCopy, depth + 1]);
    }
  }
  return top;
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
