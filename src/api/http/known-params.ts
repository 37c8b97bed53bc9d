// A parameter an action does not declare is refused, never dropped: a typo or a MAAS option
// metalflow does not implement (`PUT machines/{id}/ swap_size=1G`) must not come back as a 200
// that did nothing. The router asks this before the form is parsed, so nothing is written.
import { badRequest } from './errors';
import type { Form } from './form';
import type { Params } from './params';

/** The dispatch parameter: the router reads it (query, then body) to pick the action. */
const DISPATCH = 'op';

/**
 * Every name the request carries that `f` does not take: values from the query and the body, and
 * multipart file parts (taken only by a `file` field of their name). A field declared
 * `prefixed` takes every name that extends its prefix (`power_parameters_{key}`; '' takes any).
 */
export function unknownParameters(f: Form<unknown> | undefined, params: Params): string[] {
  const fields = Object.entries(f?.fields ?? {});
  const prefixes = fields.filter(([, spec]) => spec.prefixed).map(([name]) => name);
  // undocumented fields are facts about the request (its names), not parameters a client may send.
  const declared = new Set(fields.filter(([, spec]) => !spec.prefixed && !spec.undocumented).map(([name]) => name));
  // A `rest` field takes every name (its service checks them against what it knows).
  const takesRest = fields.some(([, spec]) => spec.rest !== undefined);
  const takes = (name: string) =>
    name === DISPATCH ||
    takesRest ||
    declared.has(name) ||
    prefixes.some((p) => name.startsWith(p) && name.length > p.length);
  const unknown = new Set(params.names().filter((name) => !takes(name)));
  const fileFields = new Set(fields.filter(([, spec]) => spec.file).map(([name]) => name));
  for (const name of params.files.keys())
    if (!fileFields.has(name) && (!params.has(name) || !takes(name))) unknown.add(name);
  return [...unknown];
}

/**
 * Throws MAAS's form-error 400 (`{"name": ["…"]}`) naming each parameter `f` does not take;
 * `action` says which action refused it (e.g. `PUT (update)`), so the caller can look it up in describe/.
 */
export function assertKnownParameters(f: Form<unknown> | undefined, params: Params, action: string): void {
  const unknown = unknownParameters(f, params);
  if (unknown.length === 0) return;
  const why = (name: string) =>
    params.files.has(name) && !params.has(name)
      ? `Unknown parameter: ${action} takes no file uploads; send it as a form field if describe/ lists it.`
      : `Unknown parameter: metalflow's ${action} does not take it (describe/ lists the parameters it takes).`;
  throw badRequest(Object.fromEntries(unknown.map((name) => [name, [why(name)]])));
}
