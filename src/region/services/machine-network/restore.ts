// Machine op=restore_networking_configuration and op=restore_default_configuration (networking and
// storage together, in one transaction): MAAS allows them on Ready and Failed testing machines.
import { MachineStatus as S } from '../../../contracts/lifecycle';
import { applyLayout, defaultLayoutOf } from '../storage/default-layout';
import { loadOne } from '../storage/repository';
import type { MachineNetworkEditor, User } from './machine-edit';
import { restoreNetworking } from './initial-config';

export class MachineNetworkRestore {
  constructor(private readonly editor: MachineNetworkEditor) {}

  async restore(caller: User, systemId: string, what: 'networking' | 'default'): Promise<void> {
    await this.editor.run(
      caller,
      systemId,
      'restore',
      [],
      async ({ tx, machine }) => {
        await restoreNetworking(tx, machine.id);
        if (what === 'default') await applyLayout(tx, await loadOne(tx, machine.id), await defaultLayoutOf(tx), {});
      },
      (m) =>
        m.status === S.READY || m.status === S.FAILED_TESTING
          ? null
          : `Machine must be in a ready or failed testing state to restore ${what === 'default' ? 'default' : 'networking'} configuration.`,
    );
  }
}
