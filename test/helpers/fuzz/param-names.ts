// Which parameter names to fuzz for an action, collected at test time so the list follows the
// code: the `:param` lines of the action's describe/ doc when present, else the names the
// resource's source file (and the local form files it imports) reads with the Params readers,
// narrowed to those the doc mentions when it mentions any.
import fs from 'node:fs';
import path from 'node:path';
import { POWER_TYPES } from '../../../src/contracts/power';

const RESOURCES_DIR = path.resolve(__dirname, '../../../src/api/resources');

/** Params readers and the small local helpers forms wrap them in (allocate's number/list, specs). */
const READER = /\b(?:string|int|bool|list|get|getAll|has|number|num|specs)\(\s*(?:p,\s*)?'([a-z][a-z0-9_]*)'/g;
const HANDLER = /name:\s*'([A-Za-z]+Handler)'/g;
const LOCAL_IMPORT = /from '\.\/([a-z-]+)'/g;
/** MAAS docstring forms: `:param name:` and the newer `@param (type) "name"`. */
const DOC_PARAM = [/:param\s+(?:[\w[\]]+\s+)?([a-z][a-z0-9_]*)\s*:/g, /@param\s*\([^)]*\)\s*"([a-z][a-z0-9_]*)"/g];

const POWER_FIELD_NAMES = [
  ...new Set(Object.values(POWER_TYPES).flatMap((t) => t.fields.map((f) => `power_parameters_${f.name}`))),
];

function readerNames(file: string): string[] {
  const text = fs.readFileSync(path.join(RESOURCES_DIR, `${file}.ts`), 'utf8');
  return [...text.matchAll(READER)].map((m) => m[1]!);
}

/** Handler name → every parameter name its source file (and local imports) reads. */
export function sourceParamNames(): Map<string, string[]> {
  const byHandler = new Map<string, string[]>();
  for (const entry of fs.readdirSync(RESOURCES_DIR)) {
    if (!entry.endsWith('.ts')) continue;
    const file = entry.slice(0, -3);
    const text = fs.readFileSync(path.join(RESOURCES_DIR, entry), 'utf8');
    const handlers = [...text.matchAll(HANDLER)].map((m) => m[1]!);
    if (handlers.length === 0) continue;
    const imports = [...text.matchAll(LOCAL_IMPORT)].map((m) => m[1]!);
    const names = new Set([file, ...imports].flatMap(readerNames));
    if (names.has('power_type')) for (const n of POWER_FIELD_NAMES) names.add(n);
    for (const h of handlers) byHandler.set(h, [...names].sort());
  }
  return byHandler;
}

export function docParamNames(doc: string): string[] {
  return [...new Set(DOC_PARAM.flatMap((re) => [...doc.matchAll(re)].map((m) => m[1]!)))];
}

/** The names to fuzz for one action: documented ones, else the source's (those its doc names first). */
export function paramNamesFor(doc: string, fromSource: readonly string[]): string[] {
  const documented = docParamNames(doc);
  if (documented.length > 0) return documented;
  const mentioned = fromSource.filter(
    (n) =>
      new RegExp(`\\b${n}\\b`).test(doc) || (n.startsWith('power_parameters_') && doc.includes('power_parameters_')),
  );
  return mentioned.length > 0 ? mentioned : [...fromSource];
}
