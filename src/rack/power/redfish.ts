// power_type "redfish": HTTP(S) to the BMC. Authentication as Redfish recommends it: one session
// per BMC (POST SessionService/Sessions → X-Auth-Token), reused by every request and poll, opened
// again once when the BMC answers 401 (sessions time out, BMCs restart); Basic auth on every
// request for a BMC without a SessionService (MAAS's driver always uses Basic). A session costs
// the BMC one password check instead of one per request, which is what slow BMCs spend on.
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import { MAAS_BACKOFF_MS, awaitState, withRetries } from './retries';
import { PowerError, type PowerDriver, type RackLog } from './driver';
import { basicAuth, bmcRequest, httpFailure, type BmcRequest, type BmcResponse } from './http';

export interface RedfishDriverOptions {
  log?: RackLog;
  /** Waits between attempts after a retryable error, and while a state change settles. */
  backoffMs?: readonly number[];
  timeoutMs?: number;
}

interface SystemResource {
  PowerState?: string;
  Actions?: Record<string, { target?: string } | undefined>;
}

/** How requests to one BMC authenticate: its session token, or Basic when it has no sessions. */
type Auth = { kind: 'basic' } | { kind: 'session'; token: string; /** DELETE this to log out. */ url?: string };

/** Login answers that mean "no SessionService here": use Basic. */
const NO_SESSIONS = new Set([400, 404, 405, 501]);

/** Transitional states count as the state being left, so awaitState keeps waiting. */
const STATES: Readonly<Record<string, PowerState>> = {
  On: 'on',
  Off: 'off',
  PoweringOn: 'off',
  PoweringOff: 'on',
  Paused: 'on',
};

export class RedfishPowerDriver implements PowerDriver {
  readonly name = 'redfish';
  readonly queryable = true;
  private readonly log: RackLog;
  private readonly backoff: readonly number[];
  /** By BMC (base URL) and user; the password is kept to notice it changed. Never logged. */
  private readonly sessions = new Map<string, { pass: string; auth: Promise<Auth> }>();

  constructor(private readonly opts: RedfishDriverOptions = {}) {
    this.log = opts.log ?? (() => undefined);
    this.backoff = opts.backoffMs ?? MAAS_BACKOFF_MS;
  }

  on(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    return this.reset(cfg, 'On', 'on', signal);
  }

  off(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    return this.reset(cfg, 'ForceOff', 'off', signal);
  }

  /** A machine that is off is powered on: ForceRestart of an off system is refused by many BMCs. */
  async cycle(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    const now = await this.query(cfg, signal);
    return this.reset(cfg, now === 'off' ? 'On' : 'ForceRestart', 'on', signal);
  }

  query(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    return this.retried(cfg, 'query', signal, async () => stateOf((await this.system(cfg, signal)).body));
  }

  setNextBootPxe(cfg: PowerConfig, signal: AbortSignal): Promise<void> {
    return this.retried(cfg, 'set boot device', signal, async () => {
      const { path } = await this.system(cfg, signal);
      await this.call(cfg, signal, {
        method: 'PATCH',
        path,
        body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } },
      });
    });
  }

  private async reset(
    cfg: PowerConfig,
    resetType: string,
    desired: PowerState,
    signal: AbortSignal,
  ): Promise<PowerState> {
    await this.retried(cfg, resetType, signal, async () => {
      const { path, body } = await this.system(cfg, signal);
      // The spec's way to find the action; older BMCs omit it and use the conventional path.
      const target = body.Actions?.['#ComputerSystem.Reset']?.target ?? `${path}/Actions/ComputerSystem.Reset`;
      await this.call(cfg, signal, { method: 'POST', path: target, body: { ResetType: resetType } });
    });
    return awaitState(this.what(cfg, resetType), desired, this.backoff, signal, async () =>
      stateOf((await this.system(cfg, signal)).body),
    );
  }

  private retried<T>(cfg: PowerConfig, action: string, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    return withRetries(this.what(cfg, action), this.backoff, signal, this.log, attempt);
  }

  private what(cfg: PowerConfig, action: string): string {
    return `redfish ${action} ${cfg.systemId} (${cfg.parameters.power_address ?? '?'})`;
  }

  /** The system resource: power_parameters_node_id, or the BMC's first (usually only) system. */
  private async system(cfg: PowerConfig, signal: AbortSignal): Promise<{ path: string; body: SystemResource }> {
    const nodeId = cfg.parameters.node_id?.trim();
    let path = nodeId ? `/redfish/v1/Systems/${encodeURIComponent(nodeId)}` : undefined;
    if (!path) {
      const list = (await this.call(cfg, signal, { method: 'GET', path: '/redfish/v1/Systems' })) as {
        Members?: Array<{ '@odata.id'?: string }>;
      };
      path = list.Members?.[0]?.['@odata.id'];
      if (!path) throw PowerError.fatal(`${this.what(cfg, 'query')}: the BMC lists no systems; set node_id.`);
    }
    return { path, body: (await this.call(cfg, signal, { method: 'GET', path })) as SystemResource };
  }

  private async call(
    cfg: PowerConfig,
    signal: AbortSignal,
    req: { method: BmcRequest['method']; path: string; body?: unknown },
  ): Promise<unknown> {
    const p = cfg.parameters;
    const address = p.power_address?.trim();
    if (!address) throw PowerError.fatal('redfish: power_address is not set.');
    // MAAS: an address without a scheme is https.
    const base = /^https?:\/\//i.test(address) ? address.replace(/\/+$/, '') : `https://${address}`;
    let auth = await this.auth(cfg, base);
    let res = await this.follow(cfg, req, base, auth, signal);
    if (res.status === 401 && auth.kind === 'session') {
      // The session timed out or the BMC restarted: log in again, once.
      await this.forget(cfg, base, auth);
      auth = await this.auth(cfg, base);
      res = await this.follow(cfg, req, base, auth, signal);
    }
    if (res.status >= 200 && res.status < 300) return res.text ? parseJson(res.text) : {};
    throw httpFailure(`${this.what(cfg, `${req.method} ${req.path}`)}`, res, redfishMessage(res.text));
  }

  /** Some BMCs (sushy among them) redirect a system's name to its UUID: follow a few hops on the
   * same BMC; 307/308 keep the method and body. */
  private async follow(
    cfg: PowerConfig,
    req: { method: BmcRequest['method']; path: string; body?: unknown },
    base: string,
    auth: Auth,
    signal: AbortSignal,
  ): Promise<BmcResponse> {
    let url = `${base}${req.path}`;
    let res = await this.send(cfg, req, url, auth, signal);
    for (let hops = 0; [301, 302, 307, 308].includes(res.status) && res.location && hops < 3; hops++) {
      url = new URL(res.location, url).href;
      if (!url.startsWith(`${new URL(base).origin}/`)) break;
      res = await this.send(cfg, req, url, auth, signal);
    }
    return res;
  }

  private send(
    cfg: PowerConfig,
    req: { method: BmcRequest['method']; body?: unknown },
    url: string,
    auth: Auth,
    signal: AbortSignal,
  ) {
    const p = cfg.parameters;
    return bmcRequest({
      method: req.method,
      url,
      headers: {
        ...(auth.kind === 'session'
          ? { 'X-Auth-Token': auth.token }
          : { Authorization: basicAuth(p.power_user ?? '', p.power_pass ?? '') }),
        'OData-Version': '4.0',
      },
      body: req.body,
      verifyTls: p.power_verify_ssl === 'y',
      timeoutMs: this.opts.timeoutMs ?? 30_000,
      signal,
    });
  }

  /** This BMC's session, logging in once for all concurrent requests; a failed login is not kept. */
  private auth(cfg: PowerConfig, base: string): Promise<Auth> {
    const key = this.key(cfg, base);
    const pass = cfg.parameters.power_pass ?? '';
    const known = this.sessions.get(key);
    if (known?.pass === pass) return known.auth;
    if (known)
      void known.auth.then(
        (a) => this.logout(cfg, a),
        () => undefined,
      );
    const auth = this.login(cfg, base);
    const entry = { pass, auth };
    this.sessions.set(key, entry);
    auth.catch(() => this.sessions.get(key) === entry && this.sessions.delete(key));
    return auth;
  }

  /** Drops a session the BMC refused, unless a concurrent request already replaced it. */
  private async forget(cfg: PowerConfig, base: string, auth: Auth): Promise<void> {
    const key = this.key(cfg, base);
    const entry = this.sessions.get(key);
    if (entry && (await entry.auth.catch(() => undefined)) === auth && this.sessions.get(key) === entry)
      this.sessions.delete(key);
  }

  private key(cfg: PowerConfig, base: string): string {
    return `${base} ${cfg.parameters.power_user ?? ''}`;
  }

  /**
   * Finds the BMC's sessions collection in the service root (which needs no credentials) and logs
   * in there; a BMC whose root names none uses Basic. Asking the root first matters: BMCs without
   * sessions (sushy-emulator among them) answer a login attempt with 401, like a wrong password.
   * Not bound to one request's signal, since concurrent requests share the login; each HTTP
   * request's own timeout bounds it.
   */
  private async login(cfg: PowerConfig, base: string): Promise<Auth> {
    const p = cfg.parameters;
    const request = (method: BmcRequest['method'], url: string, body?: unknown) =>
      bmcRequest({
        method,
        url,
        headers: { 'OData-Version': '4.0' },
        body,
        verifyTls: p.power_verify_ssl === 'y',
        timeoutMs: this.opts.timeoutMs ?? 30_000,
        signal: new AbortController().signal,
      });
    const root = await request('GET', `${base}/redfish/v1`);
    const path = root.status === 200 ? sessionsPath(root.text) : undefined;
    if (!path) return { kind: 'basic' };
    // The service root is read without credentials: a sessions path (or a session's location)
    // on another origin must never receive the BMC's password or token.
    const origin = new URL(base).origin;
    const sameOrigin = (u: string | undefined, from: string) =>
      u !== undefined && new URL(u, from).origin === origin ? new URL(u, from).href : undefined;
    const url = sameOrigin(path, base);
    if (!url) return { kind: 'basic' };
    const res = await request('POST', url, { UserName: p.power_user ?? '', Password: p.power_pass ?? '' });
    if (res.status >= 200 && res.status < 300 && res.authToken) {
      return { kind: 'session', token: res.authToken, url: sameOrigin(res.location, url) };
    }
    if (NO_SESSIONS.has(res.status) || (res.status >= 200 && res.status < 300)) return { kind: 'basic' };
    // 401/403 (wrong credentials) are fatal, a struggling BMC is retried: as for any request.
    throw httpFailure(this.what(cfg, 'login'), res, redfishMessage(res.text));
  }

  private async logout(cfg: PowerConfig, auth: Auth): Promise<void> {
    if (auth.kind !== 'session' || !auth.url) return;
    await bmcRequest({
      method: 'DELETE',
      url: auth.url,
      headers: { 'X-Auth-Token': auth.token, 'OData-Version': '4.0' },
      verifyTls: cfg.parameters.power_verify_ssl === 'y',
      timeoutMs: 5_000,
      signal: new AbortController().signal,
    }).catch(() => undefined);
  }

  /** Log out of every BMC (the rack is stopping); sessions left behind would time out anyway. */
  async close(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    // No power_verify_ssl here: the DELETE goes to a BMC this driver already talked to.
    const cfg: PowerConfig = { systemId: '', powerType: 'redfish', parameters: {} };
    await Promise.all(open.map(async (e) => this.logout(cfg, await e.auth.catch(() => ({ kind: 'basic' }) as Auth))));
  }
}

/** The service root's sessions collection: Links.Sessions (the spec's), else under SessionService. */
function sessionsPath(rootText: string): string | undefined {
  try {
    const root = JSON.parse(rootText) as {
      Links?: { Sessions?: { '@odata.id'?: string } };
      SessionService?: { '@odata.id'?: string };
    };
    const service = root.SessionService?.['@odata.id'];
    return root.Links?.Sessions?.['@odata.id'] ?? (service ? `${service.replace(/\/+$/, '')}/Sessions` : undefined);
  } catch {
    return undefined;
  }
}

function stateOf(system: SystemResource): PowerState {
  const state = STATES[system.PowerState ?? ''];
  if (!state) throw PowerError.retryable(`redfish: the BMC reports PowerState '${system.PowerState ?? '(none)'}'.`);
  return state;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw PowerError.retryable(`redfish: the BMC answered with something other than JSON: ${text.slice(0, 200)}`);
  }
}

/** The BMC's own words from a Redfish error body ({"error": {"message", "@Message.ExtendedInfo"}}). */
function redfishMessage(text: string): string {
  try {
    const e = (
      JSON.parse(text) as { error?: { message?: string; '@Message.ExtendedInfo'?: Array<{ Message?: string }> } }
    ).error;
    const extended = (e?.['@Message.ExtendedInfo'] ?? []).map((i) => i.Message).filter(Boolean);
    return [e?.message, ...extended].filter(Boolean).join('; ');
  } catch {
    return text.slice(0, 200).trim();
  }
}
