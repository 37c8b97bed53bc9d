// A storage layout chosen on the web UI's deploy form (issue 19): applied as op=set_storage_layout
// applies it (StorageService.edit: a Ready machine, MAAS's configure-storage right, the layout's own
// sizes), and, in the same transaction, checked against what the deploy that follows will need,
// so a layout the deploy would refuse (blank under an image installed to disk, a machine that
// cannot netboot) is refused here and writes nothing, instead of leaving a changed layout behind
// a refused deploy. The deploy itself is the caller's next step (MachineOperations.deploy).
import { ForbiddenError, ValidationError } from '../../errors';
import type { BootResourceService } from '../boot-resources';
import type { ConfigService } from '../config';
import { assertCanNetboot } from '../mac-rules';
import type { Principal } from '../principal';
import { lockMachine } from '../transitions';
import { applyLayout } from './default-layout';
import { installerStorage } from './installer-description';
import { APPLIED_LAYOUTS, type AppliedLayout } from './layouts';
import { loadOne } from './repository';
import type { StorageService } from './storage-service';

/** The deploy form's choices: MAAS's layouts metalflow lays out (bcache is refused everywhere, so not offered). */
export const DEPLOY_LAYOUTS: readonly AppliedLayout[] = APPLIED_LAYOUTS;

export interface LayoutAtDeployDeps {
  storage: StorageService;
  bootResources: Pick<BootResourceService, 'resolve'>;
  config: Pick<ConfigService, 'defaultDeployImage'>;
}

/** The form's value as a layout; anything else is the field's error (nothing applied). */
export function deployLayoutOf(value: string): AppliedLayout {
  const known = DEPLOY_LAYOUTS.find((l) => l === value);
  if (!known)
    throw ValidationError.field(
      'storage_layout',
      `${value.slice(0, 64)} is not one of the layouts metalflow applies: ${DEPLOY_LAYOUTS.join(', ')}.`,
    );
  return known;
}

/**
 * Lays out the machine's storage for the deploy of `distroSeries` (empty: the default image), or
 * refuses with the reason, writing nothing. The caller is a user (the layout needs MAAS's
 * configure-storage right: admins and the pool's admins).
 */
export async function applyLayoutForDeploy(
  deps: LayoutAtDeployDeps,
  caller: Principal,
  systemId: string,
  layout: AppliedLayout,
  distroSeries: string,
): Promise<void> {
  if (caller.kind !== 'user') throw new ForbiddenError('Only a user can change a storage layout.');
  const wanted = distroSeries || (await deps.config.defaultDeployImage());
  // As MachineActions.deploy decides it: a root filesystem image is installed on the storage laid out here.
  const installsToDisk = deps.bootResources.resolve(wanted)?.filetype === 'root-tgz';
  await deps.storage.edit(
    caller,
    systemId,
    'ready',
    {
      operation: 'change',
      object: 'the storage layout',
      notReady: 'Cannot change the storage layout on a machine that is not Ready.',
    },
    async (_e, s, tx) => {
      await applyLayout(tx, s, layout, {});
      const m = await lockMachine(tx, systemId);
      await assertCanNetboot(tx, m, 'deploy');
      if (!installsToDisk) return;
      const r = installerStorage(await loadOne(tx, m.id));
      if (!r.ok)
        throw ValidationError.field(
          'storage_layout',
          `The ${layout} layout leaves storage the deploy cannot install ${wanted || 'the image'} on: ${r.problems.join(' ')}`,
        );
    },
  );
}
