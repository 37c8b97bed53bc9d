// power_type "webhook" (MAAS 3.1+): POST power_on_uri / power_off_uri, GET power_query_uri and
// match the body against power_on_regex / power_off_regex. Auth: a bearer power_token, else Basic
// with power_user / power_pass, as MAAS sends it (plus MAAS's System_Id header).
import type { PowerConfig } from '../../contracts/rack-api';
import { POWER_TYPES } from '../../contracts/power';
import type { PowerState } from '../../contracts/workflows';
import { MAAS_BACKOFF_MS, awaitState, withRetries } from './retries';
import { PowerError, type PowerDriver, type RackLog } from './driver';
import { basicAuth, bmcRequest, httpFailure, safeUrl, type BmcResponse } from './http';

export interface WebhookDriverOptions {
  log?: RackLog;
  backoffMs?: readonly number[];
  timeoutMs?: number;
}

const defaultOf = (field: string): string => POWER_TYPES.webhook?.fields.find((f) => f.name === field)?.default ?? '';

export class WebhookPowerDriver implements PowerDriver {
  readonly name = 'webhook';
  readonly queryable = true;
  private readonly log: RackLog;
  private readonly backoff: readonly number[];

  constructor(private readonly opts: WebhookDriverOptions = {}) {
    this.log = opts.log ?? (() => undefined);
    this.backoff = opts.backoffMs ?? MAAS_BACKOFF_MS;
  }

  on(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    return this.act(cfg, 'power_on_uri', 'on', signal);
  }

  off(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    return this.act(cfg, 'power_off_uri', 'off', signal);
  }

  /** A webhook has no cycle: off then on, as MAAS does for drivers without one. */
  async cycle(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    await this.off(cfg, signal);
    return this.on(cfg, signal);
  }

  /** No power_query_uri: the state is unknown, as in MAAS. */
  query(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    const uri = cfg.parameters.power_query_uri;
    if (!uri) return Promise.resolve('unknown');
    const onRe = regex(cfg, 'power_on_regex');
    const offRe = regex(cfg, 'power_off_regex');
    return withRetries(this.what(cfg, 'query'), this.backoff, signal, this.log, async () => {
      const { text } = await this.request(cfg, 'GET', uri, signal);
      return onRe.test(text) ? 'on' : offRe.test(text) ? 'off' : 'unknown';
    });
  }

  private async act(
    cfg: PowerConfig,
    field: 'power_on_uri' | 'power_off_uri',
    desired: PowerState,
    signal: AbortSignal,
  ): Promise<PowerState> {
    const uri = cfg.parameters[field];
    if (!uri) throw PowerError.fatal(`webhook: ${field} is not set.`);
    await withRetries(this.what(cfg, field), this.backoff, signal, this.log, () =>
      this.request(cfg, 'POST', uri, signal),
    );
    if (!cfg.parameters.power_query_uri) return 'unknown';
    return awaitState(this.what(cfg, field), desired, this.backoff, signal, () => this.query(cfg, signal));
  }

  private what(cfg: PowerConfig, action: string): string {
    return `webhook ${action} ${cfg.systemId}`;
  }

  private async request(
    cfg: PowerConfig,
    method: 'GET' | 'POST',
    url: string,
    signal: AbortSignal,
  ): Promise<BmcResponse> {
    const p = cfg.parameters;
    const headers: Record<string, string> = { System_Id: cfg.systemId };
    if (p.power_token) headers.Authorization = `Bearer ${p.power_token}`;
    else if (p.power_user && p.power_pass) headers.Authorization = basicAuth(p.power_user, p.power_pass);
    const res = await bmcRequest({
      method,
      url,
      headers,
      verifyTls: p.power_verify_ssl === 'y',
      timeoutMs: this.opts.timeoutMs ?? 30_000,
      signal,
    });
    if (res.status >= 200 && res.status < 300) return res;
    throw httpFailure(`${this.what(cfg, method)} ${safeUrl(url)}`, res, res.text.slice(0, 200).trim());
  }
}

/** MAAS matches with Python's re.search; these patterns are plain enough for JS RegExp. */
function regex(cfg: PowerConfig, field: 'power_on_regex' | 'power_off_regex'): RegExp {
  const source = cfg.parameters[field] || defaultOf(field);
  try {
    return new RegExp(source);
  } catch (err) {
    throw PowerError.fatal(`webhook: ${field} '${source}' is not a valid regular expression.`, err);
  }
}
