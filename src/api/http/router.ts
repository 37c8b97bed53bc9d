// The API router: matches a resource, authenticates, reads parameters, dispatches to the action
// named by (method, op) as MAAS's OperationsHandler.dispatch does, and writes the result. It also
// serves describe/ from the same registry, and the unversioned /MAAS/api/version/.
import type Koa from 'koa';
import { ANONYMOUS_BODY_LIMITS, type BodyLimits, ensureParams } from './body';
import { apiDescriptionHash, describeApi, describeForOrigin } from './describe';
import { hasAnyControl } from './control-chars';
import { assertKnownParameters } from './known-params';
import { badRequest, methodNotAllowed, notFound, unauthorized } from './errors';
import { PathMatcher } from './path-match';
import { markOp, markRoute } from './route-label';
import { sendJson, sendResult, sendText } from './reply';
import {
  type AccessRule,
  type Action,
  actionName,
  METHODS,
  type Method,
  type Resource,
  validateResources,
} from './resource';
import { versionResource, type VersionInfo } from './version';

export interface ApiRouterOptions<P> {
  /** Default '/MAAS/api/2.0'. Its last segment is the API version served at <parent>/version/. */
  prefix?: string;
  resources: ReadonlyArray<Resource<P>>;
  /** Principal from the request's credentials, null when it has none; throws ApiError(401) on bad ones. */
  authenticate: (ctx: Koa.Context) => Promise<P | null>;
  /** Body limits of authenticated requests; default DEFAULT_BODY_LIMITS. */
  bodyLimits?: BodyLimits;
  /** Body limits of requests without credentials (anonymous enlistment); default ANONYMOUS_BODY_LIMITS. */
  anonymousBodyLimits?: BodyLimits;
  /** Answers an action's access rule for a caller with credentials; throws to refuse. */
  authorize?: (principal: P, access: AccessRule) => void | Promise<void>;
  /** The VersionHandler is added unless `resources` has one; this overrides its defaults. */
  version?: Partial<VersionInfo>;
}

const AUTH_REQUIRED =
  'Authorization Error: this action needs credentials; sign the request with a MAAS API key (OAuth PLAINTEXT).';

/** Koa middleware answering everything under the prefix (unknown paths: MAAS's 404); other paths pass through. */
export function createApiRouter<P>(options: ApiRouterOptions<P>): Koa.Middleware {
  const prefix = (options.prefix ?? '/MAAS/api/2.0').replace(/\/$/, '');
  const resources = options.resources.some((r) => r.name === 'VersionHandler')
    ? [...options.resources]
    : [...options.resources, versionResource<P>(options.version)];
  validateResources(resources);
  if (!options.authorize && resources.some((r) => r.actions.some((a) => a.access)))
    throw new Error('createApiRouter: actions declare access rules, so the authorize option is required.');

  const description = describeApi(resources, prefix);
  const hash = apiDescriptionHash(description);
  const matcher = new PathMatcher(
    resources.flatMap((r) =>
      [r.path, ...(r.aliasPaths ?? [])].map((template) => ({
        template,
        value: r,
        cidrPlaceholders: r.cidrPlaceholders,
      })),
    ),
  );
  const apiVersion = prefix.slice(prefix.lastIndexOf('/') + 1);
  const versionPath = `${prefix.slice(0, prefix.lastIndexOf('/'))}/version`;

  return async function maasApi(ctx, next) {
    const path = ctx.path;
    if (path === versionPath || path === `${versionPath}/`) {
      if (!isRead(ctx.method)) throw methodNotAllowed(ctx.method, ['GET']);
      sendText(ctx, 200, apiVersion);
      return;
    }
    if (!path.startsWith(`${prefix}/`)) return next();
    const relative = path.slice(prefix.length);
    if (relative === '/describe/' || relative === '/describe') {
      if (!isRead(ctx.method)) throw methodNotAllowed(ctx.method, ['GET']);
      // Not ctx.origin: in Koa 3 that is the Origin request header. protocol/host honour
      // X-Forwarded-* when the app sets `proxy = true`.
      sendJson(ctx, 200, describeForOrigin(description, hash, `${ctx.protocol}://${ctx.host}`));
      return;
    }
    const match = matcher.match(relative);
    // MAAS's last-resort route (urls_api.py handler_404 → api/not_found.py): 404 in its words,
    // whoever asks; nothing else is served under the API prefix.
    if (!match) throw notFound(`Unknown API endpoint: ${path}.`);
    markRoute(ctx, prefix, match.template, match.params);
    // No object is named with a control character; a NUL must not travel on to an SQL lookup.
    if (Object.values(match.params).some(hasAnyControl)) throw notFound();

    ctx.set('X-MAAS-API-Hash', hash);
    const resource = match.value;
    const method = dispatchMethod(ctx.method);
    const allowed = METHODS.filter((m) => resource.actions.some((a) => a.method === m));
    if (!method || !allowed.includes(method)) throw methodNotAllowed(ctx.method, allowed);

    // Credentials come from headers alone, so refuse anonymous callers before reading a body
    // they could not use.
    // A resource with only anonymous actions (version/) is served whatever the Authorization
    // header says, as MAAS serves its unauthenticated handlers: a bad token there is no error.
    const anonymousOnly = resource.actions.every((a) => a.anonymous);
    const principal = anonymousOnly ? null : await options.authenticate(ctx);
    if (principal === null && !resource.actions.some((a) => a.method === method && a.anonymous))
      throw unauthorized(AUTH_REQUIRED);

    // A stranger gets the small limits: nobody is accountable for what an anonymous body costs.
    const limits = principal === null ? (options.anonymousBodyLimits ?? ANONYMOUS_BODY_LIMITS) : options.bodyLimits;
    const params = await ensureParams(ctx, limits);
    // MAAS: request.GET op, else request.POST op, else the path suffix; an empty op counts as none.
    const op = params.fromQuery('op') || params.fromBody('op') || match.op || undefined;
    const action = findAction(resource, method, op);
    if (!action) throw badRequest(`Unrecognised signature: method=${method} op=${op ?? 'None'}`);
    // Only an op the resource declares becomes a label value (a bounded set).
    markOp(ctx, action.op);
    if (principal === null && !action.anonymous) throw unauthorized(AUTH_REQUIRED);

    // The chain: access rule (callers with credentials) → form → handler. A parameter the form
    // does not declare is refused before the form is read, so the handler never runs on it.
    if (principal !== null && action.access) await options.authorize?.(principal, action.access);
    assertKnownParameters(action.form, params, actionLabel(action));
    const form: unknown = action.form ? action.form.parse(params) : undefined;
    const result = await action.handle({ principal, form, params, path: match.params, koa: ctx });
    sendResult(ctx, result);
  };
}

function findAction<P>(resource: Resource<P>, method: Method, op: string | undefined): Action<P> | undefined {
  return resource.actions.find((a) => a.method === method && a.op === op);
}

/** How describe/ and docs/maas-compat.md name an action: `POST op=deploy`, `PUT (update)`. */
function actionLabel(action: Action<unknown>): string {
  return action.op === undefined ? `${action.method} (${actionName(action)})` : `${action.method} op=${action.op}`;
}

/** HEAD is answered as GET (Koa drops the body); anything else MAAS does not route is unknown. */
function dispatchMethod(method: string): Method | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return (METHODS as readonly string[]).includes(m) ? (m as Method) : undefined;
}

function isRead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
