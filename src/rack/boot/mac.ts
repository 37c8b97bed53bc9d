// MAC addresses as iPXE writes them in URLs (`${mac:hexhyp}` → `52-54-00-12-34-56`) and as the
// region stores them (`52:54:00:12:34:56`).

const HYPHENATED = /^[0-9a-f]{2}(?:-[0-9a-f]{2}){5}$/i;

/** `52-54-00-12-34-56` (any case) → `52:54:00:12:34:56`; undefined for anything else. */
export function macFromHyphens(text: string): string | undefined {
  return HYPHENATED.test(text) ? text.toLowerCase().replace(/-/g, ':') : undefined;
}

/** Lower case, colon-separated; what BootConfig.macAddresses are compared in. */
export function normalizeMac(mac: string): string {
  return mac.toLowerCase().replace(/-/g, ':');
}
