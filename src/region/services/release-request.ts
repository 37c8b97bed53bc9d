// What a release asks (its erase options after the `maas` config's defaults) and records before
// its workflow starts: one machine's release and the bulk release share it.
import type { EntityManager } from 'typeorm';
import type { WorkflowType, WorkflowParams } from '../../contracts/workflows';
import type { Machine } from '../db/entities';
import type { ConfigService } from './config';
import { eraseOnRelease } from './ephemeral-deploy';
import { recordEvent } from './events';
import type { LifecycleStartRef } from './lifecycle-start';
import { assertCanNetboot } from './mac-rules';
import type { Principal } from './principal';
import { recordRequest } from './request-events';

/** An erase option left undefined takes the `maas` config's default (ConfigService.eraseDefaults). */
export interface ReleaseOptions {
  erase?: boolean;
  secureErase?: boolean;
  quickErase?: boolean;
  /** For the request event (MAAS: "User releasing node"). */
  comment: string;
}

/**
 * MAAS: enable_disk_erasing_on_release forces an erase; an erase's secure/quick mode the release
 * does not give comes from disk_erase_with_secure_erase/quick_erase.
 */
export async function withEraseDefaults(
  config: Pick<ConfigService, 'eraseDefaults'> | undefined,
  o: ReleaseOptions,
): Promise<Required<ReleaseOptions>> {
  const d = (await config?.eraseDefaults()) ?? { erase: false, secureErase: false, quickErase: false };
  const erase = o.erase === true || o.secureErase === true || o.quickErase === true || d.erase;
  return {
    erase,
    secureErase: erase && (o.secureErase ?? d.secureErase),
    quickErase: erase && (o.quickErase ?? d.quickErase),
    comment: o.comment,
  };
}

export const releaseParams =
  (o: Required<ReleaseOptions>) =>
  async (m: Machine, ref: LifecycleStartRef): Promise<WorkflowParams<typeof WorkflowType.release>> => {
    const erase = eraseOnRelease(m.ephemeralDeploy, o.erase);
    return { ...ref, erase, secureErase: erase && o.secureErase, quickErase: erase && o.quickErase };
  };

/** What releasing one (checked, locked) machine records before its workflow starts. */
export async function prepareRelease(
  tx: EntityManager,
  caller: Principal,
  m: Machine,
  o: Required<ReleaseOptions>,
): Promise<void> {
  if (eraseOnRelease(m.ephemeralDeploy, o.erase)) await assertCanNetboot(tx, m, 'erase the disks of');
  await recordRequest(tx, m, caller, 'User releasing node', o.comment);
  if (m.ephemeralDeploy && o.erase)
    await recordEvent(tx, m.id, {
      type: 'Node status event',
      description: 'Ephemeral deployment: the disks were never written, so there is nothing to erase.',
      level: 'INFO',
    });
}
