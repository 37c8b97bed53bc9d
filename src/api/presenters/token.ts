// API tokens as MAAS's AccountHandler shows them.
import type { ApiToken } from '../../region/services';
import { formatApiKey } from '../../region/services/users';

/** create_authorisation_token's answer. */
export function presentNewToken(t: ApiToken): Record<string, unknown> {
  return { token_key: t.tokenKey, token_secret: t.tokenSecret, consumer_key: t.consumerKey, name: t.name };
}

/** One entry of list_authorisation_tokens: the consumer's name and the whole API key. */
export function presentTokenListEntry(t: ApiToken): Record<string, unknown> {
  return { name: t.name, token: formatApiKey(t) };
}
