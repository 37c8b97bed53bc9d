// power_type "ipmi": Debian's ipmitool, run with execFile (no shell). There is no usable IPMI
// library on npm (docs/stack-notes.md). Secrets go through the environment (-E, -K), never argv,
// where any local user could read them in `ps`.
import { execFile } from 'node:child_process';
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import { MAAS_BACKOFF_MS, awaitState, withRetries } from './retries';
import { PowerError, type PowerDriver, type RackLog } from './driver';
import { ipmiFailure, ipmitoolArgs } from './ipmi-args';

export interface IpmiDriverOptions {
  log?: RackLog;
  /** Waits between attempts after a retryable error (MAAS: 4/8/16/32 s). */
  backoffMs?: readonly number[];
  /** Kill ipmitool after this long: a BMC that stops answering mid-session must not hang us. */
  timeoutMs?: number;
  /** ipmitool's own retransmission (-N seconds, -R count) within one attempt. */
  retransmit?: { intervalS: number; retries: number };
  ipmitool?: string;
}

export class IpmiPowerDriver implements PowerDriver {
  readonly name = 'ipmi';
  readonly queryable = true;
  private readonly log: RackLog;
  private readonly backoff: readonly number[];

  constructor(private readonly opts: IpmiDriverOptions = {}) {
    this.log = opts.log ?? (() => undefined);
    this.backoff = opts.backoffMs ?? MAAS_BACKOFF_MS;
  }

  async on(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    await this.retried(cfg, 'power on', signal, ['chassis', 'power', 'on']);
    return this.settle(cfg, 'power on', 'on', signal);
  }

  async off(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    await this.retried(cfg, 'power off', signal, ['chassis', 'power', 'off']);
    return this.settle(cfg, 'power off', 'off', signal);
  }

  /** MAAS's `--cycle --on-if-off`: many BMCs refuse a cycle of a machine that is off. */
  async cycle(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    const now = await this.query(cfg, signal);
    await this.retried(cfg, 'power cycle', signal, ['chassis', 'power', now === 'off' ? 'on' : 'cycle']);
    return this.settle(cfg, 'power cycle', 'on', signal);
  }

  query(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    return withRetries(this.what(cfg, 'query'), this.backoff, signal, this.log, () => this.status(cfg, signal));
  }

  /** `chassis bootdev pxe` is a one-time override (IPMI's default); EFI machines need efiboot. */
  async setNextBootPxe(cfg: PowerConfig, signal: AbortSignal): Promise<void> {
    const efi = cfg.parameters.power_boot_type === 'efi' ? ['options=efiboot'] : [];
    await this.retried(cfg, 'set boot device', signal, ['chassis', 'bootdev', 'pxe', ...efi]);
  }

  private what(cfg: PowerConfig, action: string): string {
    return `ipmi ${action} ${cfg.systemId} (${cfg.parameters.power_address ?? '?'})`;
  }

  private retried(cfg: PowerConfig, action: string, signal: AbortSignal, command: string[]): Promise<string> {
    return withRetries(this.what(cfg, action), this.backoff, signal, this.log, () => this.run(cfg, command, signal));
  }

  private settle(cfg: PowerConfig, action: string, desired: PowerState, signal: AbortSignal): Promise<PowerState> {
    return awaitState(this.what(cfg, action), desired, this.backoff, signal, () => this.status(cfg, signal));
  }

  private async status(cfg: PowerConfig, signal: AbortSignal): Promise<PowerState> {
    const out = await this.run(cfg, ['chassis', 'power', 'status'], signal);
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (!m?.[1])
      throw PowerError.retryable(
        `${this.what(cfg, 'query')}: unexpected answer from ipmitool: ${out.trim() || '(nothing)'}`,
      );
    return m[1].toLowerCase() === 'on' ? 'on' : 'off';
  }

  /** One ipmitool run; resolves with its stdout, rejects with a PowerError (or the abort reason). */
  private run(cfg: PowerConfig, command: string[], signal: AbortSignal): Promise<string> {
    const { args, env } = ipmitoolArgs(cfg.parameters, command, this.opts.retransmit ?? { intervalS: 1, retries: 2 });
    const timeout = this.opts.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      execFile(
        this.opts.ipmitool ?? 'ipmitool',
        args,
        // A minimal environment: the secrets, PATH, and C messages (the error mapping reads them).
        {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...env },
          timeout,
          killSignal: 'SIGKILL',
          signal,
          maxBuffer: 1 << 20,
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          if (signal.aborted) return reject(signal.reason as Error);
          const what = this.what(cfg, command.slice(1).join(' '));
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT')
            return reject(
              PowerError.fatal(`${what}: ipmitool is not installed on this rack (Debian package ipmitool).`, err),
            );
          if (err.killed)
            return reject(PowerError.retryable(`${what}: the BMC did not answer within ${timeout / 1000} s.`, err));
          reject(ipmiFailure(what, `${stderr}\n${stdout}`, err));
        },
      );
    });
  }
}
