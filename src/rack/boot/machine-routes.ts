// What the rack's /MAAS/ proxy lets through to the region: only what a booting machine calls, read
// from images/ephemeral/init and the scripts it loads. The rack listens on every interface of the
// boot network, so everything else of the region (web UI, user API, describe/, racks' API) stays
// behind it: a 404 from the rack, whatever address the region itself binds.
//
//   /MAAS/metadata[/…]                       the metadata server (the machine's own token)
//   GET /MAAS/maas-run-scripts               the script deployed hosts and the ephemeral env run
//   GET /MAAS/api/2.0/machines/?op=is_registered     enlistment, anonymous
//   POST /MAAS/api/2.0/machines/             enlistment (create), anonymous
//
// The API routes pass only without credentials: with an API key they would be the user API.

export interface ProxiedRequest {
  method: string;
  /** The raw request target, e.g. /MAAS/api/2.0/machines/?op=is_registered&mac_address=… */
  url: string;
  /** Whether the request carries an Authorization header. */
  authorized: boolean;
}

const METADATA = /^\/MAAS\/metadata(\/[A-Za-z0-9._~-]+)*\/?$/;
const RUN_SCRIPTS = '/MAAS/maas-run-scripts';
const MACHINES = /^\/MAAS\/api\/2\.0\/machines\/?$/;

const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/** Whether the rack forwards this request to the region for a machine. */
export function machineMayReach(r: ProxiedRequest): boolean {
  const [path = '', query = ''] = splitTarget(r.url);
  // Only plain segments: no percent-encoding, `.`/`..` or empty segments, which the region might
  // resolve to something other than what was matched here.
  if (/%|\\|\/\/|\/\.{1,2}(\/|$)/.test(path)) return false;
  if (METADATA.test(path)) return true;
  if (path === RUN_SCRIPTS) return isRead(r.method);
  if (MACHINES.test(path) && !r.authorized) {
    const ops = new URLSearchParams(query).getAll('op');
    if (isRead(r.method)) return ops.length === 1 && ops[0] === 'is_registered';
    return r.method === 'POST' && ops.length === 0;
  }
  return false;
}

function splitTarget(url: string): [string, string] {
  const q = url.indexOf('?');
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
}
