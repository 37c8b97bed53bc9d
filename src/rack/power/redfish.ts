// power_type "redfish": plain HTTP(S) with Basic auth on every request, as MAAS's driver does
// (MAAS never opens a Redfish session; Basic works on every BMC that accepts sessions too).
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import { MAAS_BACKOFF_MS, awaitState, withRetries } from './backoff';
import { PowerError, type PowerDriver, type RackLog } from './driver';
import { basicAuth, bmcRequest, httpFailure, type BmcRequest } from './http';

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

/** Transitional states count as the state being left, so awaitState keeps waiting. */
const STATES: Readonly<Record<string, PowerState>> = { On: 'on', Off: 'off', PoweringOn: 'off', PoweringOff: 'on', Paused: 'on' };

export class RedfishPowerDriver implements PowerDriver {
  readonly name = 'redfish';
  readonly queryable = true;
  private readonly log: RackLog;
  private readonly backoff: readonly number[];

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
      await this.call(cfg, signal, { method: 'PATCH', path, body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } } });
    });
  }

  private async reset(cfg: PowerConfig, resetType: string, desired: PowerState, signal: AbortSignal): Promise<PowerState> {
    await this.retried(cfg, resetType, signal, async () => {
      const { path, body } = await this.system(cfg, signal);
      // The spec's way to find the action; older BMCs omit it and use the conventional path.
      const target = body.Actions?.['#ComputerSystem.Reset']?.target ?? `${path}/Actions/ComputerSystem.Reset`;
      await this.call(cfg, signal, { method: 'POST', path: target, body: { ResetType: resetType } });
    });
    return awaitState(this.what(cfg, resetType), desired, this.backoff, signal, async () => stateOf((await this.system(cfg, signal)).body));
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
      const list = (await this.call(cfg, signal, { method: 'GET', path: '/redfish/v1/Systems' })) as { Members?: Array<{ '@odata.id'?: string }> };
      path = list.Members?.[0]?.['@odata.id'];
      if (!path) throw PowerError.fatal(`${this.what(cfg, 'query')}: the BMC lists no systems; set node_id.`);
    }
    return { path, body: (await this.call(cfg, signal, { method: 'GET', path })) as SystemResource };
  }

  private async call(cfg: PowerConfig, signal: AbortSignal, req: { method: BmcRequest['method']; path: string; body?: unknown }): Promise<unknown> {
    const p = cfg.parameters;
    const address = p.power_address?.trim();
    if (!address) throw PowerError.fatal('redfish: power_address is not set.');
    // MAAS: an address without a scheme is https.
    const base = /^https?:\/\//i.test(address) ? address.replace(/\/+$/, '') : `https://${address}`;
    let url = `${base}${req.path}`;
    let res = await this.send(cfg, req, url, signal);
    // Some BMCs (sushy among them) redirect a system's name to its UUID: follow a few hops on
    // the same BMC; 307/308 keep the method and body.
    for (let hops = 0; [301, 302, 307, 308].includes(res.status) && res.location && hops < 3; hops++) {
      url = new URL(res.location, url).href;
      if (!url.startsWith(`${new URL(base).origin}/`)) break;
      res = await this.send(cfg, req, url, signal);
    }
    if (res.status >= 200 && res.status < 300) return res.text ? parseJson(res.text) : {};
    throw httpFailure(`${this.what(cfg, `${req.method} ${req.path}`)}`, res, redfishMessage(res.text));
  }

  private send(cfg: PowerConfig, req: { method: BmcRequest['method']; body?: unknown }, url: string, signal: AbortSignal) {
    const p = cfg.parameters;
    return bmcRequest({
      method: req.method,
      url,
      headers: { Authorization: basicAuth(p.power_user ?? '', p.power_pass ?? ''), 'OData-Version': '4.0' },
      body: req.body,
      verifyTls: p.power_verify_ssl === 'y',
      timeoutMs: this.opts.timeoutMs ?? 30_000,
      signal,
    });
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
    const e = (JSON.parse(text) as { error?: { message?: string; '@Message.ExtendedInfo'?: Array<{ Message?: string }> } }).error;
    const extended = (e?.['@Message.ExtendedInfo'] ?? []).map((i) => i.Message).filter(Boolean);
    return [e?.message, ...extended].filter(Boolean).join('; ');
  } catch {
    return text.slice(0, 200).trim();
  }
}
