// A storage layout chosen on the web UI's deploy form (issue 19): applied as op=set_storage_layout
// applies it (StorageService's admission: a Ready machine, MAAS's configure-storage right, the
// layout's own sizes), inside the deploy's own transaction (DeployOptions.layOutStorage), and
// checked there against what that deploy will install, so a layout the deploy would refuse (blank
// under an image installed to disk) and a deploy refused for any reason leave the machine's
// storage as it was.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../../db/entities';
import { ForbiddenError, ValidationError } from '../../errors';
import type { BootResourceService } from '../boot-resources';
import type { ConfigService } from '../config';
import type { Principal } from '../principal';
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
 * The deploy's storage step for `layout` and the deploy's image (empty: the default image):
 * run by MachineActions.deploy in its transaction, with the machine's row lock held. The caller
 * is a user (the layout needs MAAS's configure-storage right: admins and the pool's admins).
 */
export async function layoutStepForDeploy(
  deps: LayoutAtDeployDeps,
  caller: Principal,
  layout: AppliedLayout,
  deploy: { distroSeries: string; ephemeral?: boolean },
): Promise<{ name: string; layOut: (tx: EntityManager, m: Machine) => Promise<void> }> {
  if (caller.kind !== 'user') throw new ForbiddenError('Only a user can change a storage layout.');
  const wanted = deploy.distroSeries || (await deps.config.defaultDeployImage());
  // As MachineActions.deploy decides it: a root filesystem image is installed on the storage laid
  // out here, unless the deploy runs it from RAM.
  const installsToDisk = deploy.ephemeral !== true && deps.bootResources.resolve(wanted)?.filetype === 'root-tgz';
  const layOut = (tx: EntityManager, m: Machine) =>
    deps.storage.editLocked(
      tx,
      caller,
      m,
      'ready',
      {
        operation: 'change',
        object: 'the storage layout',
        notReady: 'Cannot change the storage layout on a machine that is not Ready.',
      },
      async (_e, s) => {
        await applyLayout(tx, s, layout, {});
        if (!installsToDisk) return;
        const r = installerStorage(await loadOne(tx, m.id));
        if (!r.ok)
          throw ValidationError.field(
            'storage_layout',
            `The ${layout} layout leaves storage the deploy cannot install ${wanted || 'the image'} on: ${r.problems.join(' ')}`,
          );
      },
    );
  return { name: layout, layOut };
}
