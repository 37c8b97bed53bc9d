// The HTTP framework the API routes plug into; see each module for the why.
export {
  ANONYMOUS_BODY_LIMITS,
  bodyParser,
  DEFAULT_BODY_LIMITS,
  ensureParams,
  paramsOf,
  rawBodyOf,
  type BodyLimits,
} from './body';
export {
  apiDescriptionHash,
  describeApi,
  describeForOrigin,
  type ApiDescription,
  type HandlerDescription,
} from './describe';
export {
  ApiError,
  APPLICATION_JSON,
  badRequest,
  conflict,
  forbidden,
  methodNotAllowed,
  noMatch,
  notFound,
  payloadTooLarge,
  serviceUnavailable,
  TEXT_PLAIN,
  tooManyRequests,
  unauthorized,
} from './errors';
export { assertText, controlCharOf, hasAnyControl } from './control-chars';
export { DEFAULT_JSON_DEPTH, parseJson } from './json-depth';
export { errorBoundary, type ErrorBoundaryOptions } from './errors-middleware';
export {
  authenticateOAuth,
  oauthAuthenticator,
  oauthHeader,
  parseOAuthHeader,
  type CredentialStore,
  type OAuthParams,
} from './oauth';
export { INT4_MAX, INT4_MIN, PARAM_LIMITS, Params } from './params';
export { pathId } from './path-ids';
export * as field from './form';
export { actionDoc, form, formDocLines, type FieldSpec, type Form } from './form';
export { Reply, sendResult } from './reply';
export { requestSignal } from './request-signal';
export {
  actionName,
  actionsOf,
  type AccessRule,
  RESTFUL_ACTION_NAMES,
  validateResources,
  type Action,
  type ActionContext,
  type Method,
  type Resource,
} from './resource';
export { createApiRouter, type ApiRouterOptions } from './router';
export { DEFAULT_VERSION_INFO, MAAS_CAPABILITIES, versionResource, type VersionInfo } from './version';
