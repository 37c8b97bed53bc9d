// Rack activities for workflow tests: power is recorded, and a powered-on machine answers the way
// the test says, through the region's real metadata service (as the metadata API would).
import { ApplicationFailure } from '@temporalio/activity';
import { POWER_FATAL_ERROR, type PowerActionResult, type RackActivities } from '../../src/contracts/activities';
import type { BootPurpose } from '../../src/contracts/workflows';
import { MachineEntity } from '../../src/region/db/entities';
import type { RegionServices } from '../../src/region/services';

/** `manual`: the rack answers as for power type manual (by hand) and the machine boots only
 * when the test presses its power button. */
/** `never-checks-in`: the install reports OK, but the installed OS never fetches its user-data. */
export type Behaviour = 'answers' | 'silent' | 'fails' | 'bmc-rejects' | 'manual' | 'never-checks-in';

export class ScriptedRack {
  readonly calls: string[] = [];
  readonly behaviour = new Map<string, Behaviour>();
  private readonly purpose = new Map<string, BootPurpose>();
  services: RegionServices | undefined;

  constructor(private readonly delayMs = 150) {}

  activities(): RackActivities {
    const power = async (systemId: string, action: 'on' | 'off' | 'cycle'): Promise<PowerActionResult> => {
      this.calls.push(`${action}:${systemId}`);
      const behaviour = this.behaviour.get(systemId);
      if (behaviour === 'bmc-rejects') {
        throw ApplicationFailure.create({
          message: 'BMC refused the credentials: wrong password.',
          type: POWER_FATAL_ERROR,
          nonRetryable: true,
        });
      }
      if (behaviour === 'manual') return { state: 'unknown', byHand: true };
      if (action !== 'off') this.boot(systemId);
      return { state: action === 'off' ? 'off' : 'on' };
    };
    const prepareBoot = async ({ systemId, purpose }: { systemId: string; purpose: BootPurpose }) => {
      this.calls.push(`boot:${purpose}:${systemId}`);
      this.purpose.set(systemId, purpose);
      // A deployed machine reboots into its installed OS, which checks in.
      if (purpose === 'local' && this.behaviour.get(systemId) !== 'never-checks-in')
        setTimeout(() => void this.checkIn(systemId), this.delayMs);
    };
    return {
      // A netboot's power-on prepares the boot in the same activity (LEANER_HISTORY_PATCH).
      powerOn: async ({ systemId, prepareBoot: purpose }) => {
        if (purpose) await prepareBoot({ systemId, purpose });
        return power(systemId, 'on');
      },
      powerOff: ({ systemId }) => power(systemId, 'off'),
      powerCycle: ({ systemId }) => power(systemId, 'cycle'),
      // The installer powers the machine off once the image is written (a machine that never
      // checks in is found off and powered on again); everyone else says on.
      queryPower: async ({ systemId }) => (this.behaviour.get(systemId) === 'never-checks-in' ? 'off' : 'on'),
      prepareBoot,
    };
  }

  /** The operator of a manual machine powers it on: it netboots and answers. */
  pressPowerButton(systemId: string): void {
    this.boot(systemId, 'answers');
  }

  private boot(systemId: string, as?: Behaviour): void {
    const behaviour = as ?? this.behaviour.get(systemId) ?? 'answers';
    if (behaviour === 'silent') return;
    setTimeout(() => {
      void (async () => {
        const m = await this.machine(systemId);
        if (!m) return;
        await this.services!.metadata.signal(m, { status: 'WORKING', error: '', files: new Map() });
        await this.services!.metadata.signal(m, {
          status: behaviour === 'fails' ? 'FAILED' : 'OK',
          error: behaviour === 'fails' ? 'script 00-maas-01-cpuinfo failed' : '',
          files: new Map(),
        });
      })().catch((err: unknown) => console.error('scripted machine:', err));
    }, this.delayMs);
  }

  private async checkIn(systemId: string): Promise<void> {
    const m = await this.machine(systemId);
    if (m) await this.services!.metadata.userDataFetched(m);
  }

  private machine(systemId: string) {
    return this.services!.db.getRepository(MachineEntity).findOneBy({ systemId });
  }
}
