// GET /MAAS/api/2.0/describe/: the API description the `maas` CLI (`maas login`, `maas refresh`)
// and python-libmaas build their commands and objects from. Shape and rules follow MAAS's
// src/maasserver/api/doc.py (describe_api, describe_resource, describe_handler, describe_actions)
// and doc_handler.describe:
// - one entry per resource, sorted by name: {anon, auth, name};
// - a resource whose actions are all anonymous is like MAAS's unauthenticated resources
//   (VersionHandler): anon = the handler, auth = null;
// - otherwise auth = the handler with every action (authenticated clients use only `auth`), and
//   anon = 'Anon' + name with the anonymous actions, or null when there are none;
// - `handlers` repeats every non-null anon handler, then every auth handler (backward compat);
// - keys are emitted sorted, as MAAS's json.dumps(sort_keys=True) does; actions sorted by name;
// - `path` is the absolute path, `uri` the absolute URL built from the request's scheme and host;
// - `hash` identifies the description; the same value goes out as X-MAAS-API-Hash on every API
//   response, and the CLI warns the user to `maas refresh` when they differ.
import { createHash } from 'node:crypto';
import { actionDoc } from './form';
import { actionName, type Method, pathParamNames, type Resource } from './resource';

export interface ActionDescription {
  doc: string;
  method: Method;
  name: string;
  op: string | null;
  restful: boolean;
}

export interface HandlerDescription {
  actions: ActionDescription[];
  doc: string;
  name: string;
  params: string[];
  path: string;
  uri?: string;
}

export interface ResourceDescription {
  anon: HandlerDescription | null;
  auth: HandlerDescription | null;
  name: string;
}

export interface ApiDescription {
  doc: string;
  handlers: HandlerDescription[];
  hash?: string;
  resources: ResourceDescription[];
}

/** The description with relative paths only (MAAS's describe_api): what the hash is computed over. */
export function describeApi(resources: ReadonlyArray<Resource<unknown>>, prefix: string): ApiDescription {
  const described = resources.map((r) => describeResource(r, prefix)).sort((a, b) => compare(a.name, b.name));
  return { doc: 'MAAS API', handlers: handlersOf(described), resources: described };
}

function describeResource(resource: Resource<unknown>, prefix: string): ResourceDescription {
  const anonymous = resource.actions.filter((a) => a.anonymous);
  if (resource.actions.length > 0 && anonymous.length === resource.actions.length) {
    return {
      anon: describeHandler(resource.name, resource.doc, resource, resource.actions, prefix),
      auth: null,
      name: resource.name,
    };
  }
  const anon =
    anonymous.length === 0
      ? null
      : describeHandler(
          resource.anonName ?? `Anon${resource.name}`,
          resource.anonDoc ?? resource.doc,
          resource,
          anonymous,
          prefix,
        );
  return {
    anon,
    auth: describeHandler(resource.name, resource.doc, resource, resource.actions, prefix),
    name: resource.name,
  };
}

function describeHandler(
  name: string,
  doc: string,
  resource: Resource<unknown>,
  actions: Resource<unknown>['actions'],
  prefix: string,
): HandlerDescription {
  const described = actions
    .map((a): ActionDescription => ({
      doc: actionDoc(a.doc, a.form),
      method: a.method,
      name: actionName(a),
      op: a.op ?? null,
      restful: a.op === undefined,
    }))
    .sort((a, b) => compare(a.name, b.name));
  return { actions: described, doc, name, params: pathParamNames(resource.path), path: `${prefix}${resource.path}` };
}

function handlersOf(resources: ResourceDescription[]): HandlerDescription[] {
  return [...resources.flatMap((r) => (r.anon ? [r.anon] : [])), ...resources.flatMap((r) => (r.auth ? [r.auth] : []))];
}

/** SHA-1 hex over a canonical (sorted-key) JSON of the relative description, like MAAS's hash. */
export function apiDescriptionHash(description: ApiDescription): string {
  return createHash('sha1').update(canonicalJson(description)).digest('hex');
}

/** What describe/ sends: hash added and every handler given its absolute `uri`. */
export function describeForOrigin(description: ApiDescription, hash: string, origin: string): ApiDescription {
  const withUri = (h: HandlerDescription | null): HandlerDescription | null =>
    h && { actions: h.actions, doc: h.doc, name: h.name, params: h.params, path: h.path, uri: `${origin}${h.path}` };
  const resources = description.resources.map((r) => ({ anon: withUri(r.anon), auth: withUri(r.auth), name: r.name }));
  return { doc: description.doc, handlers: handlersOf(resources), hash, resources };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compare(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Code-point order, as Python's sorted() on str. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
