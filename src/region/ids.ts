import crypto from 'node:crypto';

// MAAS's system_id alphabet leaves out look-alike characters.
const SYSTEM_ID_ALPHABET = 'abcdefghjkmnpqrstuvwxy3468';
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, length: number): string {
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** A random 6-character lowercase id, like MAAS's `wxwwga`. */
export const newSystemId = (): string => randomString(SYSTEM_ID_ALPHABET, 6);

/** Names one lifecycle start: the claim its transaction writes on the machine (claim_token). */
export const newClaimToken = (): string => crypto.randomUUID();

/** MAAS's OAuth credentials: 18-character consumer and token keys, a 32-character secret. */
export const newConsumerKey = (): string => randomString(KEY_ALPHABET, 18);
export const newTokenKey = (): string => randomString(KEY_ALPHABET, 18);
export const newTokenSecret = (): string => randomString(KEY_ALPHABET, 32);
