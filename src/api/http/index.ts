// The HTTP framework the API routes plug into; see each module for the why.
export { bodyParser, DEFAULT_BODY_LIMITS, ensureParams, paramsOf, rawBodyOf, type BodyLimits } from './body';
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
  unauthorized,
} from './errors';
export { errorBoundary, type ErrorBoundaryOptions } from './errors-middleware';
export {
  authenticateOAuth,
  oauthAuthenticator,
  oauthHeader,
  parseOAuthHeader,
  type CredentialStore,
  type OAuthParams,
} from './oauth';
export * as field from './form';
export { actionDoc, form, formDocLines, type FieldSpec, type Form } from './form';
export { Params } from './params';
export { Reply, sendResult } from './reply';
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
