// power_type "fake": a FAKE BMC. Power state lives in this process's memory, per machine;
// powering on boots a FakeMachine, powering off aborts it at once (mid-request if need be).
import type { PowerConfig } from '../../contracts/rack-api';
import type { PowerState } from '../../contracts/workflows';
import type { PowerDriver, RackLog } from '../power/driver';
import type { BootSource } from './boot-source';
import { FakeMachine } from './fake-machine';
import { parseFakeParams } from './params';

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

export interface FakePowerOptions {
  netboot: BootSource;
  log: RackLog;
  /** Bound on a fake machine's retries while the region is unreachable. */
  maxWaitMs?: number;
}

export class FakePowerDriver implements PowerDriver {
  readonly name = 'fake';
  readonly queryable = true;
  private readonly state = new Map<string, 'on' | 'off'>();
  private readonly running = new Map<string, Running>();

  constructor(private readonly o: FakePowerOptions) {}

  /** Idempotent: a machine that is on stays on (the activity decides whether to cycle). */
  async on(cfg: PowerConfig): Promise<PowerState> {
    if (this.state.get(cfg.systemId) !== 'on') this.boot(cfg);
    return 'on';
  }

  async off(cfg: PowerConfig): Promise<PowerState> {
    this.halt(cfg.systemId);
    return 'off';
  }

  async cycle(cfg: PowerConfig): Promise<PowerState> {
    this.halt(cfg.systemId);
    this.boot(cfg);
    return 'on';
  }

  async query(cfg: PowerConfig): Promise<PowerState> {
    return this.state.get(cfg.systemId) ?? 'off';
  }

  /** Fake machines always netboot; nothing to set. */
  async setNextBootPxe(): Promise<void> {}

  /** Resolves when the machine's current boot has nothing more to do (for tests). */
  async settled(systemId: string): Promise<void> {
    await this.running.get(systemId)?.done;
  }

  /** Rack shutdown: every fake machine stops with the process that simulates it. */
  async stopAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort();
    await Promise.all(all.map((r) => r.done));
  }

  private boot(cfg: PowerConfig): void {
    const controller = new AbortController();
    const params = parseFakeParams(cfg.parameters);
    this.state.set(cfg.systemId, 'on');
    this.o.log(`fake power: ${cfg.systemId} on (FAKE machine, behaviour ${params.behaviour})`);
    const machine = new FakeMachine(
      { systemId: cfg.systemId, params, netboot: this.o.netboot, log: this.o.log, maxWaitMs: this.o.maxWaitMs },
      controller.signal,
    );
    const entry: Running = { controller, done: Promise.resolve() };
    entry.done = machine.run().finally(() => {
      if (this.running.get(cfg.systemId) === entry) this.running.delete(cfg.systemId);
    });
    this.running.set(cfg.systemId, entry);
  }

  private halt(systemId: string): void {
    // The entry leaves the map when its run ends, so settled() can wait for the abort to land.
    this.running.get(systemId)?.controller.abort();
    if (this.state.get(systemId) === 'on') this.o.log(`fake power: ${systemId} off`);
    this.state.set(systemId, 'off');
  }
}
