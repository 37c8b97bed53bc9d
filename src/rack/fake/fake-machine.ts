// A FAKE machine: what happens between "power on" and the machine's reports, simulated inside the
// rack process. It netboots (fetches its boot config), acts on the boot purpose, and talks to the
// region's metadata server over real HTTP like a real ephemeral environment or installed OS.
// Powering it off aborts `signal`, which stops it mid-step: an aborted machine reports nothing.
import type { BootConfig } from '../../contracts/rack-api';
import { sleep } from '../backoff';
import type { BootSource } from './boot-source';
import { fakeHardwareReport, HARDWARE_FILE } from './hardware';
import { MetadataClient } from './metadata-client';
import type { FakeParams } from './params';

export interface FakeMachineDeps {
  systemId: string;
  params: FakeParams;
  netboot: BootSource;
  log: (line: string) => void;
  /** Bound on each request's retries and on waiting for the post-install boot purpose. */
  maxWaitMs?: number;
}

export class FakeMachine {
  constructor(
    private readonly d: FakeMachineDeps,
    private readonly signal: AbortSignal,
  ) {}

  /** Runs until the machine has nothing more to do, is powered off, or gives up. Never rejects. */
  async run(): Promise<void> {
    try {
      await this.boot();
    } catch (err) {
      if (this.signal.aborted) this.say('powered off; stopped');
      else this.say(`gave up: ${(err as Error).message}`);
    }
  }

  private async boot(): Promise<void> {
    const boot = await this.d.netboot(this.d.systemId, this.signal);
    this.say(`netbooted: purpose ${boot.purpose}, behaviour ${this.d.params.behaviour}`);
    if (this.d.params.behaviour === 'silent') return this.say('silent: will never report');
    switch (boot.purpose) {
      case 'commissioning':
        return boot.erase ? this.erase(boot) : this.commission(boot);
      case 'xinstall':
        await this.install(boot);
        return this.rebootIntoInstalledOs(boot);
      case 'local':
        // The installed OS boots from disk and checks in (cloud-init fetches its user-data) while
        // the deployment waits for it; the region sends no credentials outside a netboot phase.
        await this.step();
        if (!boot.credentials) return this.say('booted the installed OS');
        await this.metadata(boot).userData();
        return this.say('booted the installed OS; fetched user-data');
      default:
        // poweroff, enlist: nothing to report (enlistment is not simulated yet).
        return this.say(`nothing to do for purpose ${boot.purpose}`);
    }
  }

  private async commission(boot: BootConfig): Promise<void> {
    const md = this.metadata(boot);
    await this.step();
    await md.signal('WORKING');
    await this.step();
    if (this.d.params.behaviour === 'fail') {
      await md.signal('FAILED', {
        error: 'fake machine: commissioning script 00-maas-01-cpuinfo failed (fake_behaviour=fail)',
      });
      return this.say('commissioning reported FAILED');
    }
    const report = fakeHardwareReport(boot, this.d.params);
    await md.signal('OK', {
      files: [{ name: HARDWARE_FILE, content: JSON.stringify(report), contentType: 'application/json' }],
    });
    this.say('commissioning reported OK');
  }

  private async erase(boot: BootConfig): Promise<void> {
    const md = this.metadata(boot);
    await this.step();
    await md.signal('WORKING', { error: `Erasing disks (${boot.erase})` });
    await this.step();
    await md.signal('OK', { error: 'Disks erased' });
    this.say(`erased disks (${boot.erase})`);
  }

  private async install(boot: BootConfig): Promise<void> {
    const md = this.metadata(boot);
    await this.step();
    await md.signal('WORKING');
    await this.step();
    if (this.d.params.behaviour === 'fail') {
      await md.signal('FAILED', { error: 'fake machine: installation failed (fake_behaviour=fail)' });
      throw new Error('installation failed on purpose (fake_behaviour=fail)');
    }
    await md.signal('OK');
    this.say('installation reported OK; rebooting');
  }

  /**
   * After the install the machine reboots. The region switches the boot purpose to `local` only
   * once it has the OK, so keep netbooting until it has; then the installed OS checks in.
   */
  private async rebootIntoInstalledOs(installed: BootConfig): Promise<void> {
    const deadline = Date.now() + (this.d.maxWaitMs ?? 120_000);
    await this.step();
    for (;;) {
      const boot = await this.d.netboot(this.d.systemId, this.signal);
      if (boot.purpose === 'local') {
        const md = this.metadata(boot);
        await md.userData();
        // A root filesystem image (the real Debian one) carries cloud-init, whose final report is
        // what makes the machine DEPLOYED, as on MAAS; the raw stand-in checks in by user-data.
        if (installed.image?.path.endsWith('.tgz')) {
          await md.cloudInitFinished(this.d.systemId);
          return this.say("booted the installed OS; fetched user-data; cloud-init's final report sent");
        }
        return this.say('booted the installed OS; fetched user-data');
      }
      if (boot.purpose !== 'xinstall') return this.say(`rebooted into purpose ${boot.purpose}; nothing to do`);
      if (Date.now() > deadline) throw new Error('boot purpose never switched to local after the install');
      // Poll the region gently: a bench runs hundreds of these at once.
      await sleep(Math.max(this.d.params.delayMs, 250), this.signal);
    }
  }

  private metadata(boot: BootConfig): MetadataClient {
    return new MetadataClient(boot, {
      signal: this.signal,
      maxElapsedMs: this.d.maxWaitMs,
      log: (line) => this.say(line),
    });
  }

  /** The time a real machine takes between steps; at least a little, so polling is not a spin. */
  private step(): Promise<void> {
    return sleep(Math.max(this.d.params.delayMs, 20), this.signal);
  }

  private say(line: string): void {
    this.d.log(`fake machine ${this.d.systemId}: ${line}`);
  }
}
