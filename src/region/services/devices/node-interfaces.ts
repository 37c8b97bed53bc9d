// nodes/{system_id}/interfaces/ names a device's or a machine's interfaces. A device's are
// read and changed here (device-interfaces.ts); a machine's are served read-only until machines'
// interface editing lands (issue 14), and a change to one is a 400 that says so.
import { NotFoundError, ValidationError } from '../../errors';
import type { MachineView } from '../machine-queries';
import type { MachineQueries } from '../machine-queries';
import type { Principal } from '../principal';
import type { DeviceService } from './devices';
import type { DeviceInterface } from './rows';

type User = Extract<Principal, { kind: 'user' }>;

export type NodeInterfaces =
  { kind: 'device'; systemId: string; interfaces: DeviceInterface[] } | { kind: 'machine'; view: MachineView };

export class NodeInterfaceService {
  constructor(
    private readonly devices: DeviceService,
    private readonly machines: MachineQueries,
  ) {}

  /** The node's interfaces: a visible device's, else a visible machine's, else a 404. */
  async of(caller: User, systemId: string): Promise<NodeInterfaces> {
    try {
      const view = await this.devices.read(caller, systemId);
      return { kind: 'device', systemId, interfaces: view.interfaces };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    try {
      return { kind: 'machine', view: await this.machines.get(caller, systemId) };
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError('No Node matches the given query.');
      throw err;
    }
  }

  /** Runs a change of a device's interface; on a machine's, a 400 naming what is not served yet. */
  async change<T>(caller: User, systemId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof NotFoundError) || !(await this.isVisibleMachine(caller, systemId))) throw err;
      throw ValidationError.field(
        '__all__',
        `Node ${systemId} is a machine: its interfaces are served read-only here; editing a machine's interfaces is not supported yet.`,
      );
    }
  }

  private async isVisibleMachine(caller: User, systemId: string): Promise<boolean> {
    return this.machines.get(caller, systemId).then(
      () => true,
      (err: unknown) => {
        if (err instanceof NotFoundError) return false;
        throw err;
      },
    );
  }
}
