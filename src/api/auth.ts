// The MAAS API's chain ends: OAuth credentials → principal (region's CredentialService), and an
// action's declared access rule → the region's policy. The app and the test harness share these.
import type Koa from 'koa';
import { authorize, type Access } from '../region/policy';
import type { RegionServices } from '../region/services';
import type { TokenHolder } from '../region/services/credentials';
import type { Principal } from '../region/services/principal';
import { createApiRouter, oauthAuthenticator, type CredentialStore, type Resource } from './http';

/**
 * Tokens as `expected` callers present them (the MAAS API: users'; the metadata server: machines'):
 * a token of that kind is looked up with its holder in one statement.
 */
export function tokenStore(
  services: Pick<RegionServices, 'credentials'>,
  expected: TokenHolder = 'user',
): CredentialStore<Principal> {
  return { findByTokenKey: (tokenKey) => services.credentials.findByTokenKey(tokenKey, expected) };
}

/** The MAAS API 2.0 over `resources`: authenticated by OAuth, each action's access rule asked of the policy. */
export function maasApiRouter(
  services: Pick<RegionServices, 'credentials'>,
  resources: Array<Resource<Principal>>,
): Koa.Middleware {
  return createApiRouter<Principal>({
    resources,
    authenticate: oauthAuthenticator(tokenStore(services)),
    // Resources declare access with the policy's `may()` (resources/access.ts), so the rule is an Access.
    authorize: (principal, access) => authorize(principal, access as Access),
  });
}
