// Rack activities for workflow tests: power is recorded, and a powered-on machine answers the way
// the test says, through the region's real metadata service (as the metadata API would).
import { ApplicationFailure } from '@temporalio/activity';
import { POWER_FATAL_ERROR, type RackActivities } from '../../src/contracts/activities';
import type { BootPurpose, PowerState } from '../../src/contracts/workflows';
import { MachineEntity } from '../../src/region/db/entities';
import type { RegionServices } from '../../src/region/services';

export type Behaviour = 'answers' | 'silent' | 'fails' | 'bmc-rejects';

export class ScriptedRack {
  readonly calls: string[] = [];
  readonly behaviour = new Map<string, Behaviour>();
  private readonly purpose = new Map<string, BootPurpose>();
  services: RegionServices | undefined;

  constructor(private readonly delayMs = 150) {}

  activities(): RackActivities {
    const power = async (systemId: string, action: 'on' | 'off' | 'cycle'): Promise<PowerState> => {
      this.calls.push(`${action}:${systemId}`);
      if (this.behaviour.get(systemId) === 'bmc-rejects') {
        throw ApplicationFailure.create({ message: 'BMC refused the credentials: wrong password.', type: POWER_FATAL_ERROR, nonRetryable: true });
      }
      if (action !== 'off') this.boot(systemId);
      return action === 'off' ? 'off' : 'on';
    };
    return {
      powerOn: ({ systemId }) => power(systemId, 'on'),
      powerOff: ({ systemId }) => power(systemId, 'off'),
      powerCycle: ({ systemId }) => power(systemId, 'cycle'),
      queryPower: async () => 'on',
      prepareBoot: async ({ systemId, purpose }) => {
        this.calls.push(`boot:${purpose}:${systemId}`);
        this.purpose.set(systemId, purpose);
        // A deployed machine reboots into its installed OS, which checks in.
        if (purpose === 'local') setTimeout(() => void this.checkIn(systemId), this.delayMs);
      },
    };
  }

  private boot(systemId: string): void {
    const behaviour = this.behaviour.get(systemId) ?? 'answers';
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
