// The declarative API registry. One list of resources drives both request dispatch (router.ts)
// and the API description clients build themselves from (describe.ts), so the two cannot drift.
// Each action is a chain: access rule (checked by the router through its `authorize` option) →
// form (parsed by the router; the same declaration writes the doc's :param lines) → handle (one
// service call and its presenter).
import type Koa from 'koa';
import type { Form } from './form';
import type { Params } from './params';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export const METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'DELETE'];

/** MAAS names RESTful (op-less) actions after piston's CRUD map. */
export const RESTFUL_ACTION_NAMES: Readonly<Record<Method, string>> = {
  GET: 'read',
  POST: 'create',
  PUT: 'update',
  DELETE: 'delete',
};

export interface ActionContext<P, F = unknown> {
  /** null only for actions marked `anonymous` called without credentials. */
  principal: P | null;
  /** The action's parsed form; undefined when it declares none. */
  form: F;
  /** The raw parameters, for the framework's own actions; MAAS resources read `form` only. */
  params: Params;
  /** Values of the `{name}` placeholders of the resource path, percent-decoded. */
  path: Record<string, string>;
  koa: Koa.Context;
}

/** A verb on a kind of object, answered by the application's policy (see ApiRouterOptions.authorize). */
export interface AccessRule {
  verb: string;
  object: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds actions of every form type
export interface Action<P, F = any> {
  /** Defaults to `op`, or read/create/update/delete for RESTful actions; if given it must agree. */
  name?: string;
  method: Method;
  /** The named operation (`?op=NAME` or `/op-NAME`); undefined for the RESTful action of `method`. */
  op?: string;
  /** Reachable without credentials; the handler then sees principal === null. */
  anonymous?: boolean;
  /** Asked of every caller with credentials before the form is read; anonymous callers skip it. */
  access?: AccessRule;
  /** The parameters the action takes; describe/ lists them after `doc`. */
  form?: Form<F>;
  doc: string;
  /** Return a plain value for JSON 200, a Reply for anything else, undefined for 204. */
  handle(c: ActionContext<P, F>): Promise<unknown>;
}

/** Types one action's handler by its form (inference needs a call per action). */
export function actionsOf<P>() {
  return <F>(action: Action<P, F>): Action<P> => action;
}

export interface Resource<P> {
  /** MAAS handler class name, e.g. 'MachinesHandler'; python-libmaas exposes it as `Machines`. */
  name: string;
  /** Relative to the API prefix, with `{name}` placeholders: '/machines/{system_id}/'. */
  path: string;
  doc: string;
  actions: Array<Action<P>>;
  /** Name of the anonymous variant in describe/; default 'Anon' + name (MAAS's convention). */
  anonName?: string;
  /** Doc of the anonymous variant; default `doc`. */
  anonDoc?: string;
  /**
   * Placeholders that may hold a CIDR, whose prefix length is one more path segment: MAAS routes
   * `subnets/10.0.0.0/24/` to the subnet, and the maas CLI puts `subnet read 10.0.0.0/24` there.
   */
  cidrPlaceholders?: readonly string[];
  /**
   * More paths routed to this resource but left out of describe/, as MAAS routes two URLs to one
   * handler (commissioning-results/ and installation-results/) and describes only the one its
   * resource_uri reverses to. Same placeholders as `path`.
   */
  aliasPaths?: readonly string[];
}

export function actionName(action: Pick<Action<unknown>, 'method' | 'op'>): string {
  return action.op ?? RESTFUL_ACTION_NAMES[action.method];
}

/** `{system_id}` placeholders in order: describe/'s `params`, which clients interpolate into `uri`. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{([^{}/]+)\}/g)].map((m) => m[1] ?? '');
}

/** Throws on a registry that would route ambiguously or describe itself wrongly. Run at startup. */
export function validateResources(resources: ReadonlyArray<Resource<unknown>>): void {
  const names = new Set<string>();
  const paths = new Set<string>();
  for (const resource of resources) {
    const where = `resource ${resource.name} (${resource.path})`;
    if (!resource.path.startsWith('/')) throw new Error(`${where}: path must start with "/".`);
    if (names.has(resource.name)) throw new Error(`${where}: another resource has the same name.`);
    const params = pathParamNames(resource.path);
    if (new Set(params).size !== params.length) throw new Error(`${where}: a path placeholder repeats.`);
    names.add(resource.name);
    for (const path of [resource.path, ...(resource.aliasPaths ?? [])]) {
      if (!path.startsWith('/')) throw new Error(`${where}: alias ${path} must start with "/".`);
      const pathKey = path.replace(/\{[^{}/]+\}/g, '{}').replace(/\/$/, '');
      if (paths.has(pathKey)) throw new Error(`${where}: another resource has the same path (${path}).`);
      if (pathParamNames(path).join() !== params.join())
        throw new Error(`${where}: alias ${path} must have the placeholders of its path.`);
      paths.add(pathKey);
    }

    const signatures = new Set<string>();
    const actionNames = new Set<string>();
    for (const action of resource.actions) {
      const derived = actionName(action);
      const label = `${where}: action ${action.method} op=${action.op ?? 'None'}`;
      if (action.op !== undefined && !/^[A-Za-z0-9_-]+$/.test(action.op))
        throw new Error(`${label}: op must be a plain word.`);
      if (action.name !== undefined && action.name !== derived) throw new Error(`${label}: name must be "${derived}".`);
      const signature = `${action.method} ${action.op ?? ''}`;
      if (signatures.has(signature)) throw new Error(`${label}: declared twice.`);
      // Clients (CLI subcommands, python-libmaas attributes) key actions by name alone.
      if (actionNames.has(derived)) throw new Error(`${label}: another action is already named "${derived}".`);
      signatures.add(signature);
      actionNames.add(derived);
    }
  }
}
